import { Router } from "express";
import { API_PATHS, passkeySignInVerifyBodySchema } from "@countersign/shared";
import type { Clock } from "../clock.js";
import { clientContextOf } from "../http/client-context.middleware.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { parseInput } from "../http/validate.js";
import { respondWithDesktopSession } from "../session/desktop-sign-in.response.js";
import type { SessionService } from "../session/session.service.js";
import type { PasskeySignInService } from "./passkey-sign-in.service.js";

export function passkeySignInRoutes(deps: {
  passkeySignIn: PasskeySignInService;
  sessions: SessionService;
  rateLimits: RateLimits;
  clock: Clock;
  secureCookies: boolean;
}): Router {
  const router = Router();

  router.post(API_PATHS.passkeySignInOptions, async (req, res) => {
    await deps.rateLimits.consume({ action: "createLogin", key: req.ip ?? "unknown" });
    res.json(await deps.passkeySignIn.start());
  });

  router.post(API_PATHS.passkeySignInVerify, async (req, res) => {
    const { ceremonyId, credential } = parseInput(passkeySignInVerifyBodySchema, req.body);
    const session = await deps.passkeySignIn.finish({ ceremonyId, credential, desktop: clientContextOf(req) });
    await respondWithDesktopSession(req, res, { session, ...deps });
  });

  return router;
}
