import type { IncomingMessage } from "node:http";
import type { Request, RequestHandler } from "express";
import type { Logger } from "pino";
import { describeClient } from "../context/client-context.js";
import type { Metrics } from "../observability/metrics.js";
import type { RequestContext, RequestScope } from "../observability/request-scope.js";
import { randomToken, type Random } from "../random.js";

export const REQUEST_ID_HEADER = "X-Request-Id";
/** A proxy's or client's id is kept only if it is short and plain: it goes into every line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Probes come every few seconds from a load balancer; at info they would drown the log. */
const HEALTH_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

/**
 * Gives every request an id (the X-Request-Id it came with, if sane, else a new one), sends it
 * back in the same header, and runs the rest of the request in its scope, so audit lines written
 * anywhere below carry it. When the answer is written: one log line (method, route, status,
 * duration, request id; health probes at debug) and, with metrics on, the duration by route
 * pattern. No query string, headers or bodies, which is where secrets would be.
 */
export function logRequests(options: {
  logger: Logger;
  scope: RequestScope;
  random: Random;
  metrics: Metrics | null;
}): RequestHandler {
  const { logger, scope, metrics } = options;
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const context = requestContextOf(req, { random: options.random, ip: () => req.ip });
    const { requestId } = context;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Not req.path: a mounted router (the OpenID Provider's) may still have its prefix cut off.
      const path = pathOf(req.originalUrl);
      const route = routeOf(req, path);
      const status = res.statusCode;
      metrics?.httpDuration.observe({ method: req.method, route, status: String(status) }, seconds);
      const line = { method: req.method, path, route, status, ms: Math.round(seconds * 1000), requestId };
      if (HEALTH_PATHS.has(path)) logger.debug(line, "request");
      else logger.info(line, "request");
    });
    scope.run(context, next);
  };
}

/**
 * A request's id (its own X-Request-Id if sane, else a new one) and, when first asked, its
 * client's address (`ip`: after TRUST_PROXY) and label. For Express's requests and for the
 * socket handshakes Express never sees.
 */
export function requestContextOf(
  req: IncomingMessage,
  options: { random: Random; ip: () => string | undefined },
): RequestContext {
  const incoming = req.headers["x-request-id"];
  const requestId =
    typeof incoming === "string" && SANE_REQUEST_ID.test(incoming) ? incoming : randomToken(options.random, 12);
  let client: { ip: string | null; label: string } | undefined;
  return {
    requestId,
    client() {
      client ??= describeClient({ userAgent: req.headers["user-agent"], ip: options.ip() });
      return { ip: client.ip, label: client.label };
    },
  };
}

/**
 * The route pattern that answered ("/api/logins/:id/approve"), never the raw path, whose ids
 * would make a metric series per request. Answers no route matched are grouped coarsely.
 */
function routeOf(req: Request, path: string): string {
  const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === "string") return req.baseUrl + pattern;
  if (path.startsWith("/oidc/") || path === "/oidc") return "/oidc/*";
  if (path.startsWith("/api/") || path === "/api") return "/api/*";
  return "other";
}

/** The path without its query string, where secrets could be. */
function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
