import type { RequestHandler } from "express";
import type { Logger } from "pino";

/**
 * One line per request: method, route path, status, duration. No query string, headers or
 * bodies, which is where secrets would be.
 */
export function logRequests(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) }, "request");
    });
    next();
  };
}
