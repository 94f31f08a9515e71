import { createServer, type Server } from "node:http";
import { Router } from "express";
import type { ErrorResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import { constantTimeEqual } from "../tokens.js";
import type { Metrics } from "./metrics.js";

export const METRICS_PATH = "/metrics";

/**
 * GET /metrics on the app's own listener, for a scraper that presents the token as a bearer
 * token. Compared in constant time; a wrong or missing one is 401, like any unauthenticated API
 * call. Mounted only when a token is configured: otherwise /metrics is an ordinary 404.
 */
export function metricsRoutes(deps: { metrics: Metrics; token: string }): Router {
  const router = Router();
  const expected = `Bearer ${deps.token}`;
  router.get(METRICS_PATH, async (req, res) => {
    if (!constantTimeEqual(req.get("authorization") ?? "", expected)) {
      throw new AppError("UNAUTHENTICATED", "Send the metrics token as a bearer token.", {
        headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
      });
    }
    res
      .set("Cache-Control", "no-store")
      .type(deps.metrics.registry.contentType)
      .send(await metricsText(deps.metrics));
  });
  return router;
}

/**
 * A listener of its own (METRICS_PORT) that serves only /metrics, without a token: for a port
 * that only the monitoring network can reach. Anything else is a JSON 404.
 */
export function createMetricsServer(deps: { metrics: Metrics }): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== METRICS_PATH || (req.method !== "GET" && req.method !== "HEAD")) {
      const body: ErrorResponse = { error: { code: "NOT_FOUND", message: "Only GET /metrics is served here." } };
      res.writeHead(404, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
      res.end(JSON.stringify(body));
      return;
    }
    metricsText(deps.metrics).then(
      (text) => {
        res.writeHead(200, { "Content-Type": deps.metrics.registry.contentType, "Cache-Control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      () => {
        const body: ErrorResponse = { error: { code: "INTERNAL", message: "Could not collect the metrics." } };
        res.writeHead(500, { "Content-Type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(body));
      },
    );
  });
}

function metricsText(metrics: Metrics): Promise<string> {
  return metrics.registry.metrics();
}
