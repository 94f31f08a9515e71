import { Writable } from "node:stream";
import type { Logger } from "pino";
import { describe, expect, it } from "vitest";
import { AppError } from "../app-error.js";
import { createLogger } from "../logger.js";
import { toErrorReply } from "./error-reply.js";

/** A logger at debug level and the lines it wrote, parsed. */
function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), lines };
}

const storeDown = new Error("Connection is closed.");
const isStoreUnavailable = (error: unknown): boolean => error === storeDown;

describe("toErrorReply: one answer for HTTP and socket acknowledgements", () => {
  it("sends an AppError's code, message and headers as they are, and logs nothing", () => {
    const { logger, lines } = recordingLogger();
    const error = new AppError("RATE_LIMITED", "Too many attempts; try again in 5 s.", {
      headers: { "Retry-After": "5" },
    });
    expect(toErrorReply(error, { isStoreUnavailable, logger, context: {} })).toEqual({
      body: { code: "RATE_LIMITED", message: "Too many attempts; try again in 5 s." },
      headers: { "Retry-After": "5" },
    });
    expect(lines).toEqual([]);
  });

  it("answers an unreachable store with STORE_UNAVAILABLE and Retry-After, logged as a warning", () => {
    const { logger, lines } = recordingLogger();
    expect(toErrorReply(storeDown, { isStoreUnavailable, logger, context: { transport: "socket" } })).toEqual({
      body: { code: "STORE_UNAVAILABLE", message: "The service is briefly unavailable; try again in a moment." },
      headers: { "Retry-After": "2" },
    });
    expect(lines).toMatchObject([
      { level: 40, msg: "store unavailable", transport: "socket", err: { message: "Connection is closed." } },
    ]);
  });

  it("answers anything else with a bare INTERNAL and logs the error in full where it happened", () => {
    const { logger, lines } = recordingLogger();
    const bug = new TypeError("Cannot read properties of undefined (reading 'secret-value')");
    const reply = toErrorReply(bug, { isStoreUnavailable, logger, context: { method: "POST", path: "/api/x" } });
    expect(reply).toEqual({ body: { code: "INTERNAL", message: "Something went wrong on our side." }, headers: {} });
    expect(JSON.stringify(reply)).not.toContain("secret-value");
    expect(lines).toMatchObject([
      { level: 50, msg: "unhandled error", method: "POST", path: "/api/x", err: { type: "TypeError" } },
    ]);
  });

  it("treats a thrown non-Error the same way", () => {
    const { logger, lines } = recordingLogger();
    expect(toErrorReply("a string", { isStoreUnavailable, logger, context: {} }).body.code).toBe("INTERNAL");
    expect(lines).toHaveLength(1);
  });
});
