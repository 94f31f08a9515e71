import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { MAX_BODY_BYTES } from "@countersign/shared";
import { AppError } from "../app-error.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Every state-changing request must come from our own origin (DESIGN §6). Browsers send Origin
 * on every cross-origin and same-origin POST, PUT and DELETE, so a missing one is refused too.
 */
export function requireSameOrigin(options: { origin: string }): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    if (req.headers.origin !== options.origin) {
      return next(new AppError("ORIGIN_MISMATCH", "Requests must come from this site's own pages."));
    }
    next();
  };
}

/** JSON only, and small: anything else is refused before it is read. */
export function jsonBodies(): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || req.method === "DELETE") return next();
    if (!req.is("application/json")) {
      return next(new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json."));
    }
    next();
  };
  return [requireJson, express.json({ limit: MAX_BODY_BYTES, strict: true })];
}

/** Turns body-parser's errors into our codes, so a bad body is a clear 4xx and never a 500. */
export function bodyParserErrors(error: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === "entity.too.large") {
    return next(new AppError("PAYLOAD_TOO_LARGE", `The request body is larger than ${MAX_BODY_BYTES} bytes.`));
  }
  if (type === "entity.parse.failed") return next(new AppError("INVALID_JSON", "The request body is not valid JSON."));
  if (type === "encoding.unsupported" || type === "charset.unsupported") {
    return next(new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the request body as UTF-8 JSON."));
  }
  next(error);
}
