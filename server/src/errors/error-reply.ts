import type { ErrorBody } from "@countersign/shared";
import type { Logger } from "pino";
import { AppError } from "../app-error.js";

/** What a client is told about a failure: the body, and headers where the transport has them. */
export interface ErrorReply {
  body: ErrorBody;
  /** E.g. Retry-After; HTTP sends them, a socket acknowledgement has nowhere to put them. */
  headers: Readonly<Record<string, string>>;
}

/**
 * The one mapping from a thrown value to what a client is told, shared by the HTTP error handler
 * and the socket acknowledgement wrapper, so the two can never answer one failure differently.
 * An AppError goes out as it is. An unreachable store is STORE_UNAVAILABLE with Retry-After,
 * logged as a warning: an outage, not a bug. Anything else is a bug: logged in full, answered
 * with a bare INTERNAL, since its message may quote secrets or input.
 */
export function toErrorReply(
  error: unknown,
  options: {
    isStoreUnavailable: (error: unknown) => boolean;
    logger: Logger;
    /** Where it happened, logged beside the error: `{ method, path }`, `{ event }`. */
    context: Record<string, unknown>;
  },
): ErrorReply {
  const { logger, context } = options;
  let appError: AppError;
  if (error instanceof AppError) {
    appError = error;
  } else if (options.isStoreUnavailable(error)) {
    logger.warn({ err: error, ...context }, "store unavailable");
    appError = new AppError("STORE_UNAVAILABLE", "The service is briefly unavailable; try again in a moment.", {
      headers: { "Retry-After": "2" },
    });
  } else {
    logger.error({ err: error, ...context }, "unhandled error");
    appError = new AppError("INTERNAL", "Something went wrong on our side.");
  }
  return { body: { code: appError.code, message: appError.message }, headers: appError.headers };
}
