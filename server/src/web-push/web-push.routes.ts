import { Router } from "express";
import {
  API_PATHS,
  pushSubscriptionBodySchema,
  type PushKeyResponse,
  type PushSubscriptionStatus,
} from "@countersign/shared";
import { parseInput } from "../http/validate.js";
import { requireApprover } from "../session/approver-session.js";
import type { SessionService } from "../session/session.service.js";
import type { WebPushService } from "./web-push.service.js";

/** The phone turns notifications on and off; each route but the public key needs its session. */
export function webPushRoutes(deps: {
  webPush: WebPushService;
  sessions: SessionService;
  secureCookies: boolean;
}): Router {
  const router = Router();
  const { webPush } = deps;

  // Public by nature (every subscription carries it); a phone fetches it before subscribing.
  router.get(API_PATHS.approverPushKey, async (_req, res) => {
    const body: PushKeyResponse = { publicKey: await webPush.publicKey() };
    res.json(body);
  });

  router.put(API_PATHS.approverPushSubscription, async (req, res) => {
    const subscription = parseInput(pushSubscriptionBodySchema, req.body);
    const approver = await requireApprover(req, deps);
    await webPush.subscribe({ approver, subscription });
    res.status(204).end();
  });

  router.get(API_PATHS.approverPushSubscription, async (req, res) => {
    const body: PushSubscriptionStatus = { enabled: webPush.isSubscribed(await requireApprover(req, deps)) };
    res.json(body);
  });

  router.delete(API_PATHS.approverPushSubscription, async (req, res) => {
    await webPush.unsubscribe(await requireApprover(req, deps));
    res.status(204).end();
  });

  return router;
}
