import { pino, type DestinationStream, type Logger } from "pino";

/**
 * Structured logs. Secrets must never reach them (DESIGN §6): cookies, the desktop secret,
 * QR tokens and WebAuthn payloads are redacted wherever they appear.
 */
export const REDACTED_PATHS = [
  "req.headers.cookie",
  "req.headers.authorization",
  "res.headers['set-cookie']",
  "*.desktopSecret",
  "*.qrToken",
  "*.token",
  "*.sessionToken",
  "*.credential",
  "*.userCode",
];

/** `destination` defaults to stdout; tests pass a stream to read what would be logged. */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      base: { service: "countersign" },
    },
    options.destination,
  );
}
