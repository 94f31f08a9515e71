import { Router } from "express";
import {
  API_PATHS,
  loginIdSchema,
  pushApproveBodySchema,
  pushDenyBodySchema,
  pushLoginBodySchema,
  pushMatchBodySchema,
  type ApproveResponse,
  type DenyResponse,
  type InboxResponse,
  type PushMatchResponse,
} from "@countersign/shared";
import { z } from "zod";
import { clientContextOf } from "../http/client-context.middleware.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { parseInput } from "../http/validate.js";
import { toLoginReview } from "../login-request/login-request.view.js";
import type { ApprovalService } from "../login-request/approval.service.js";
import { requireApprover } from "../session/approver-session.js";
import type { SessionService } from "../session/session.service.js";
import type { PushLoginService } from "./push-login.service.js";

const idParams = z.object({ id: loginIdSchema });

/** The push flow: the desktop's username-first request, and the phone's inbox and decision. */
export function pushLoginRoutes(deps: {
  push: PushLoginService;
  approvals: ApprovalService;
  sessions: SessionService;
  rateLimits: RateLimits;
  secureCookies: boolean;
}): Router {
  const router = Router();

  router.post(API_PATHS.pushLogins, async (req, res) => {
    const { username, desktopKey } = parseInput(pushLoginBodySchema, req.body);
    await deps.rateLimits.consume({ action: "createLogin", key: req.ip ?? "unknown" });
    res.status(201).json(await deps.push.createPushLogin({ username, desktopKey, desktop: clientContextOf(req) }));
  });

  router.get(API_PATHS.approverInbox, async (req, res) => {
    const approver = await requireApprover(req, deps);
    const body: InboxResponse = {
      requests: await deps.push.inbox({ userId: approver.userId, viewer: clientContextOf(req) }),
    };
    res.json(body);
  });

  router.post(API_PATHS.pushMatch(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { choice } = parseInput(pushMatchBodySchema, req.body);
    const approver = await requireApprover(req, deps);
    // A right number starts a passkey challenge; a signed-in phone is limited like anyone else.
    await deps.rateLimits.consume({ action: "startApproval", key: req.ip ?? "unknown" });
    const phone = clientContextOf(req);
    const result = await deps.push.matchPush({ id, userId: approver.userId, choice, phone });
    const review = toLoginReview(result.request, { viewer: phone });
    const body: PushMatchResponse = result.matched
      ? { matched: true, review, approval: result.approval }
      : { matched: false, review };
    res.json(body);
  });

  router.post(API_PATHS.pushApprove(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { ceremonyId, credential } = parseInput(pushApproveBodySchema, req.body);
    const approver = await requireApprover(req, deps);
    const phone = clientContextOf(req);
    const { request, user } = await deps.approvals.approve({
      id,
      proof: { kind: "push", userId: approver.userId },
      ceremonyId,
      credential,
      phone,
    });
    const body: ApproveResponse = { review: toLoginReview(request, { viewer: phone }), user };
    res.json(body);
  });

  router.post(API_PATHS.pushDeny(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { reason } = parseInput(pushDenyBodySchema, req.body);
    const approver = await requireApprover(req, deps);
    const phone = clientContextOf(req);
    const request = await deps.approvals.deny({
      id,
      proof: { kind: "push", userId: approver.userId },
      reason,
      phone,
      actorUserId: approver.userId,
    });
    // Read after the deny: its subscribers (the pause after "This wasn't me") have run by now.
    const body: DenyResponse = {
      review: toLoginReview(request, { viewer: phone }),
      pushesPausedUntil: await deps.push.pushesPausedUntil({ userId: approver.userId }),
    };
    res.json(body);
  });

  return router;
}
