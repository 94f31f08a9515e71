import type { NextFunction, Request, Response } from "express";
import { httpStatusOf, type ErrorResponse } from "@countersign/shared";
import type { Logger } from "pino";
import { AppError } from "../app-error.js";

/**
 * The one place an HTTP error becomes a response. AppErrors carry their code and message;
 * anything else is a bug or an outage: logged in full, answered with a bare INTERNAL.
 */
export function createErrorHandler(options: { logger: Logger; isStoreUnavailable: (error: unknown) => boolean }) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let appError: AppError;
    if (error instanceof AppError) {
      appError = error;
    } else if (options.isStoreUnavailable(error)) {
      options.logger.warn({ err: error, path: req.path }, "store unavailable");
      appError = new AppError("STORE_UNAVAILABLE", "The service is briefly unavailable; try again in a moment.", {
        headers: { "Retry-After": "2" },
      });
    } else {
      options.logger.error({ err: error, method: req.method, path: req.path }, "unhandled error");
      appError = new AppError("INTERNAL", "Something went wrong on our side.");
    }
    if (res.headersSent) return;
    const body: ErrorResponse = { error: { code: appError.code, message: appError.message } };
    res.status(httpStatusOf(appError.code)).set(appError.headers).json(body);
  };
}
