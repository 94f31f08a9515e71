import { Router } from "express";
import {
  API_PATHS,
  enrolmentOptionsBodySchema,
  enrolmentVerifyBodySchema,
  type EnrolmentLinkResponse,
  type EnrolmentVerifyResponse,
} from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { clientContextOf } from "../http/client-context.middleware.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { parseInput } from "../http/validate.js";
import { findApprover } from "../session/approver-session.js";
import { setSessionCookie } from "../session/session.cookies.js";
import type { SessionService } from "../session/session.service.js";
import type { EnrolmentService } from "./enrolment.service.js";

/** Passkey enrolment on the phone (DESIGN §3.1). */
export function enrolmentRoutes(deps: {
  enrolment: EnrolmentService;
  sessions: SessionService;
  rateLimits: RateLimits;
  clock: Clock;
  secureCookies: boolean;
}): Router {
  const router = Router();

  router.post(API_PATHS.enrolmentOptions, async (req, res) => {
    const body = parseInput(enrolmentOptionsBodySchema, req.body);
    await deps.rateLimits.consume({ action: "enrol", key: req.ip ?? "unknown" });
    const response = await deps.enrolment.startEnrolment({ body, approver: await findApprover(req, deps) });
    res.json(response);
  });

  router.post(API_PATHS.approverEnrolmentLinks, async (req, res) => {
    const approver = await findApprover(req, deps);
    if (approver === null) throw new AppError("UNAUTHENTICATED", "Sign in on this phone first.");
    await deps.rateLimits.consume({ action: "enrol", key: req.ip ?? "unknown" });
    const body: EnrolmentLinkResponse = await deps.enrolment.createEnrolmentLink({ approver });
    res.status(201).json(body);
  });

  router.post(API_PATHS.enrolmentVerify, async (req, res) => {
    const body = parseInput(enrolmentVerifyBodySchema, req.body);
    const { user, passkey, session } = await deps.enrolment.finishEnrolment({
      body,
      phone: clientContextOf(req),
      approver: await findApprover(req, deps),
    });
    if (session !== null) {
      setSessionCookie(res, {
        kind: "approver",
        secure: deps.secureCookies,
        token: session.token,
        expiresAt: session.record.expiresAt,
        now: deps.clock.now(),
      });
    }
    const response: EnrolmentVerifyResponse = { user, passkey };
    res.status(201).json(response);
  });

  return router;
}
