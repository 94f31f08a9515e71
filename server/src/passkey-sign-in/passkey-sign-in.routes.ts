import { Router } from "express";
import { API_PATHS, passkeySignInVerifyBodySchema, type SessionKind } from "@countersign/shared";
import type { Clock } from "../clock.js";
import { clientContextOf } from "../http/client-context.middleware.js";
import type { RateLimitedAction, RateLimits } from "../rate-limit/rate-limits.js";
import { parseInput } from "../http/validate.js";
import { respondWithNewSession } from "../session/sign-in.response.js";
import type { SessionService } from "../session/session.service.js";
import type { PasskeySignInService } from "./passkey-sign-in.service.js";

/**
 * Sign-in with a passkey alone: on the computer (/api/passkey-sign-in), and on a phone that lost
 * its session, with the passkey it holds (/api/approver/sign-in).
 */
export function passkeySignInRoutes(deps: {
  passkeySignIn: PasskeySignInService;
  sessions: SessionService;
  rateLimits: RateLimits;
  clock: Clock;
  secureCookies: boolean;
}): Router {
  const router = Router();
  const routes: { kind: SessionKind; options: string; verify: string; limit: RateLimitedAction }[] = [
    {
      kind: "desktop",
      options: API_PATHS.passkeySignInOptions,
      verify: API_PATHS.passkeySignInVerify,
      limit: "createLogin",
    },
    // A phone's sign-in stores a challenge for anyone who asks, as enrolment does: limited alike.
    {
      kind: "approver",
      options: API_PATHS.approverSignInOptions,
      verify: API_PATHS.approverSignInVerify,
      limit: "enrol",
    },
  ];

  for (const { kind, options, verify, limit } of routes) {
    router.post(options, async (req, res) => {
      await deps.rateLimits.consume({ action: limit, key: req.ip ?? "unknown" });
      res.json(await deps.passkeySignIn.start({ kind }));
    });

    router.post(verify, async (req, res) => {
      const { ceremonyId, credential } = parseInput(passkeySignInVerifyBodySchema, req.body);
      const session = await deps.passkeySignIn.finish({ kind, ceremonyId, credential, client: clientContextOf(req) });
      await respondWithNewSession(req, res, { session, ...deps });
    });
  }

  return router;
}
