import { Router } from "express";
import {
  API_PATHS,
  approvalOptionsBodySchema,
  approveBodySchema,
  denyBodySchema,
  desktopSecretBodySchema,
  loginIdSchema,
  openApprovalBodySchema,
  createLoginBodySchema,
  redeemBodySchema,
  type ApprovalCeremony,
  type ApproveResponse,
  type DenyResponse,
  type OpenApprovalResponse,
} from "@countersign/shared";
import { z } from "zod";
import type { Clock } from "../clock.js";
import { clientContextOf } from "../http/client-context.middleware.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { parseInput } from "../http/validate.js";
import { respondWithNewSession } from "../session/sign-in.response.js";
import type { SessionService } from "../session/session.service.js";
import { findApprover } from "../session/approver-session.js";
import { toLoginReview, toLoginView } from "./login-request.view.js";
import { respondWithNewLogin } from "./new-login.response.js";
import type { ApprovalService } from "./approval.service.js";
import type { LoginRequestService } from "./login-request.service.js";

const idParams = z.object({ id: loginIdSchema });

/**
 * What this feature needs of push-login/ (which imports it, so no import back): until when the
 * person's pushes are paused, which a deny answer tells the phone.
 */
export interface PushPauses {
  pushesPausedUntil(options: { userId: string }): Promise<number | null>;
}

/** The QR sign-in flow's HTTP side (DESIGN §3.2): the desktop's routes and the phone's. */
export function loginRequestRoutes(deps: {
  logins: LoginRequestService;
  approvals: ApprovalService;
  sessions: SessionService;
  rateLimits: RateLimits;
  clock: Clock;
  publicOrigin: string;
  secureCookies: boolean;
  pushPauses: PushPauses;
}): Router {
  const router = Router();
  const { logins } = deps;

  router.post(API_PATHS.logins, (req, res) =>
    respondWithNewLogin(req, res, {
      ...deps,
      desktop: clientContextOf(req),
      desktopKey: parseInput(createLoginBodySchema, req.body).desktopKey,
    }),
  );

  router.post(API_PATHS.loginCancel(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { desktopSecret } = parseInput(desktopSecretBodySchema, req.body);
    res.json({ login: toLoginView(await logins.cancel({ id, desktopSecret })) });
  });

  router.post(API_PATHS.loginRedeem(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { desktopSecret, proof } = parseInput(redeemBodySchema, req.body);
    const { session } = await logins.redeem({ id, desktopSecret, proof, desktop: clientContextOf(req) });
    await respondWithNewSession(req, res, { session, ...deps });
  });

  router.post(API_PATHS.approvalsOpen, async (req, res) => {
    const body = parseInput(openApprovalBodySchema, req.body);
    // Opening stores a passkey challenge for whoever asks: limited like every such route.
    await deps.rateLimits.consume({ action: "openApproval", key: req.ip ?? "unknown" });
    if ("userCode" in body) {
      // Codes are short enough to guess at scale; the limit is what keeps them safe.
      await deps.rateLimits.consume({ action: "lookupUserCode", key: req.ip ?? "unknown" });
    }
    const phone = clientContextOf(req);
    const { request, capability, approval } = await deps.approvals.openApproval({ body, phone });
    const response: OpenApprovalResponse = {
      review: toLoginReview(request, { viewer: phone }),
      qrToken: capability,
      approval,
    };
    res.json(response);
  });

  router.post(API_PATHS.loginApprovalOptions(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { qrToken } = parseInput(approvalOptionsBodySchema, req.body);
    await deps.rateLimits.consume({ action: "startApproval", key: req.ip ?? "unknown" });
    const approval: ApprovalCeremony = await deps.approvals.startApproval({ id, proof: { kind: "qr", qrToken } });
    res.json(approval);
  });

  router.post(API_PATHS.loginApprove(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { qrToken, ceremonyId, credential, checkNumber } = parseInput(approveBodySchema, req.body);
    const phone = clientContextOf(req);
    const { request, user } = await deps.approvals.approve({
      id,
      proof: { kind: "qr", qrToken },
      ceremonyId,
      credential,
      phone,
      ...(checkNumber === undefined ? {} : { checkNumber }),
    });
    const response: ApproveResponse = { review: toLoginReview(request, { viewer: phone }), user };
    res.json(response);
  });

  router.post(API_PATHS.loginDeny(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const { qrToken, reason } = parseInput(denyBodySchema, req.body);
    const phone = clientContextOf(req);
    const approver = await findApprover(req, deps);
    const request = await deps.approvals.deny({
      id,
      proof: { kind: "qr", qrToken },
      reason,
      phone,
      actorUserId: approver?.userId ?? null,
    });
    // Read after the deny: its subscribers (the pause after "This wasn't me") have run by now.
    const pushesPausedUntil =
      approver === null ? null : await deps.pushPauses.pushesPausedUntil({ userId: approver.userId });
    const body: DenyResponse = { review: toLoginReview(request, { viewer: phone }), pushesPausedUntil };
    res.json(body);
  });

  return router;
}
