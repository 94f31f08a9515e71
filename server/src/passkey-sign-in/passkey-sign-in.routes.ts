import { Router } from "express";
import { API_PATHS, passkeySignInVerifyBodySchema, type SessionResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { clientContextOf } from "../http/client-context.middleware.js";
import type { RateLimits } from "../http/rate-limits.js";
import { parseInput } from "../http/validate.js";
import { readSessionToken, setSessionCookie } from "../session/session.cookies.js";
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
    const previous = readSessionToken(req.headers.cookie, { kind: "desktop", secure: deps.secureCookies });
    if (previous !== null) await deps.sessions.endSession({ token: previous, kind: "desktop" });
    setSessionCookie(res, {
      kind: "desktop",
      secure: deps.secureCookies,
      token: session.token,
      expiresAt: session.record.expiresAt,
      now: deps.clock.now(),
    });
    const view = await deps.sessions.describeSession(session.record);
    if (view === null) throw new AppError("UNAUTHENTICATED", "This account no longer exists.");
    const body: SessionResponse = { session: view };
    res.json(body);
  });

  return router;
}
