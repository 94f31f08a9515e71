import type { ErrorCode } from "@countersign/shared";

/** A failure the client may see: its code and message go out as `{ error: { code, message } }`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers, e.g. Retry-After on RATE_LIMITED. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.headers = options.headers ?? {};
  }
}
