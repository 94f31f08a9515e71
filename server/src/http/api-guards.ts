import express, { type RequestHandler } from "express";
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
