import { Router } from "express";

/**
 * /healthz: the process is up (for a restart policy). /readyz: it can serve, meaning its store
 * answers and it is not shutting down (for a load balancer deciding where to send traffic).
 */
export function healthRoutes(deps: { checkStore: () => Promise<void>; isShuttingDown: () => boolean }): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    res.set("Cache-Control", "no-store");
    if (deps.isShuttingDown()) {
      res.status(503).json({ status: "shutting_down" });
      return;
    }
    try {
      await deps.checkStore();
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "store_unavailable" });
    }
  });
  return router;
}
