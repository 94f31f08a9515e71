import { Router } from "express";

/** How long /readyz waits for the store before answering 503. */
export const READY_CHECK_TIMEOUT_MS = 1_000;

/**
 * /healthz: the process is up (for a restart policy). /readyz: it can serve, meaning its store
 * answers and it is not shutting down (for a load balancer deciding where to send traffic).
 * A store that takes longer than `checkTimeoutMs` (default READY_CHECK_TIMEOUT_MS) counts as
 * unavailable: a load balancer's probe must get its answer, not time out on its own.
 */
export function healthRoutes(deps: {
  checkStore: () => Promise<void>;
  isShuttingDown: () => boolean;
  checkTimeoutMs?: number;
}): Router {
  const checkTimeoutMs = deps.checkTimeoutMs ?? READY_CHECK_TIMEOUT_MS;
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
      await withinTime(deps.checkStore(), checkTimeoutMs);
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "store_unavailable" });
    }
  });
  return router;
}

/** Settles like `check`, or rejects after `ms`; the timer never outlives the answer. */
async function withinTime(check: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the store did not answer within ${ms} ms`)), ms);
  });
  try {
    // race() also handles a rejection of `check` that comes after the deadline.
    await Promise.race([check, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
