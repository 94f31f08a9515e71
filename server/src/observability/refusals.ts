import type { IncomingMessage } from "node:http";
import type { ErrorRequestHandler } from "express";
import { AppError } from "../app-error.js";
import type { AuditTrail } from "./audit-trail.js";
import type { RequestContext } from "./request-scope.js";

interface EngineError {
  req: IncomingMessage;
  code: number;
}

/** engine.io's code for a handshake its allowRequest refused (ours: another origin's page). */
const ENGINE_FORBIDDEN = 4;

/**
 * Puts a request refused for coming from another origin on the audit trail, then hands the
 * error on to the one error handler. Mounted just before it.
 */
export function auditOriginRefusals(deps: { audit: AuditTrail }): ErrorRequestHandler {
  return (error: unknown, _req, _res, next) => {
    if (error instanceof AppError && error.code === "ORIGIN_MISMATCH") {
      deps.audit.record({ event: "origin.refused", transport: "http" });
    }
    next(error);
  };
}

/**
 * The same for a socket's handshake, which Express never sees: engine.io refuses it and says so
 * on its own event, with the request, so the line gets its own id and the client's address.
 */
export function auditSocketRefusals(deps: {
  /** Socket.IO's engine (io.engine). */
  engine: { on(event: "connection_error", listener: (error: EngineError) => void): unknown };
  audit: AuditTrail;
  contextOf: (request: IncomingMessage) => RequestContext;
}): void {
  deps.engine.on("connection_error", (error) => {
    if (error.code !== ENGINE_FORBIDDEN) return;
    deps.audit.record({ event: "origin.refused", transport: "socket" }, { context: deps.contextOf(error.req) });
  });
}
