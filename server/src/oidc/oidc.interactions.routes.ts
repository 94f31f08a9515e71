import { Router, type Request } from "express";
import type Provider from "oidc-provider";
import {
  INTERACTION_BASE_PATH,
  createLoginBodySchema,
  pushLoginBodySchema,
  type InteractionDetailsResponse,
  type InteractionRedirectResponse,
} from "@countersign/shared";
import { z } from "zod";
import { AppError } from "../app-error.js";
import { jsonBodies, requireSameOrigin } from "../http/api-guards.js";
import { clientContextOf } from "../http/client-context.middleware.js";
import { parseInput } from "../http/validate.js";
import type { LoginRequestService } from "../login-request/login-request.service.js";
import { respondWithNewLogin } from "../login-request/new-login.response.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { readSessionToken } from "../session/session.cookies.js";
import type { SessionService } from "../session/session.service.js";
import type { PushLoginService } from "../push-login/push-login.service.js";
import type { LoginApp, SessionRecord } from "../store/store.js";
import { COUNTERSIGN_ACR, PASSKEY_AMR } from "./oidc.claims.js";

const uidParams = z.object({ uid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "expects an interaction id") });

/** Why the provider asked for a login although this browser may be signed in already. */
const MUST_SIGN_IN_AGAIN = new Set(["login_prompt", "max_age", "id_token_hint", "claims_id_token_sub_value"]);

/**
 * The provider's login and consent steps (DESIGN §10), under /interaction/<uid>: the only path
 * the interaction cookie is sent to, so only the browser that started the sign-in can finish it.
 * The page itself is the desktop sign-in page; these are its JSON calls.
 */
export function oidcInteractionRoutes(deps: {
  provider: Provider;
  sessions: SessionService;
  logins: LoginRequestService;
  push: PushLoginService;
  rateLimits: RateLimits;
  publicOrigin: string;
  secureCookies: boolean;
}): Router {
  const router = Router();
  const { provider } = deps;
  const base = `${INTERACTION_BASE_PATH}:uid`;
  router.use(`${base}/*rest`, requireSameOrigin({ origin: deps.publicOrigin }), ...jsonBodies());

  async function desktopSession(req: Request): Promise<SessionRecord | null> {
    const token = readSessionToken(req.headers.cookie, { kind: "desktop", secure: deps.secureCookies });
    return deps.sessions.findSession({ token, kind: "desktop" });
  }

  /** The interaction this browser is in, checked against the path's uid. */
  async function interactionOf(req: Request, res: Parameters<Provider["interactionDetails"]>[1]) {
    const { uid } = parseInput(uidParams, req.params);
    const details = await provider.interactionDetails(req, res).catch(() => null);
    if (details?.uid !== uid) {
      throw new AppError(
        "NOT_FOUND",
        "This sign-in has expired or belongs to another browser. Start again in the app.",
      );
    }
    return details;
  }

  /** Whether `session` may finish this login: it exists, and is new enough if the app asked so. */
  function sessionSatisfies(
    details: Awaited<ReturnType<typeof interactionOf>>,
    session: SessionRecord | null,
  ): boolean {
    if (session === null) return false;
    const reasons = details.prompt.reasons;
    if (!reasons.some((reason) => MUST_SIGN_IN_AGAIN.has(reason))) return true;
    // Asked to sign in again: only a session made during this interaction counts.
    return session.createdAt >= details.iat * 1000;
  }

  router.get(`${base}/details`, async (req, res) => {
    const details = await interactionOf(req, res);
    const client = await provider.Client.find(String(details.params.client_id));
    if (client === undefined) throw new AppError("NOT_FOUND", "This app is no longer known to Countersign.");
    const prompt = details.prompt.name === "consent" ? "consent" : "login";
    const body: InteractionDetailsResponse = {
      uid: details.uid,
      prompt,
      client: {
        name: client.clientName ?? client.clientId,
        logoUri: client.logoUri ?? null,
        clientUri: client.clientUri ?? null,
      },
      scopes: String(details.params.scope ?? "")
        .split(" ")
        .filter((scope) => scope !== ""),
      signedIn: prompt === "consent" || sessionSatisfies(details, await desktopSession(req)),
    };
    res.set("Cache-Control", "no-store").json(body);
  });

  /** The app this interaction signs in to, as the phone names it. */
  async function appOf(details: Awaited<ReturnType<typeof interactionOf>>): Promise<LoginApp> {
    const client = await provider.Client.find(String(details.params.client_id));
    return { name: client?.clientName ?? String(details.params.client_id), via: "browser", bindingMessage: null };
  }

  router.post(`${base}/logins`, async (req, res) => {
    const app = await appOf(await interactionOf(req, res));
    const { desktopKey } = parseInput(createLoginBodySchema, req.body);
    await respondWithNewLogin(req, res, { ...deps, desktop: clientContextOf(req), desktopKey, app });
  });

  router.post(`${base}/push-logins`, async (req, res) => {
    const app = await appOf(await interactionOf(req, res));
    const { username, desktopKey } = parseInput(pushLoginBodySchema, req.body);
    await deps.rateLimits.consume({ action: "createLogin", key: req.ip ?? "unknown" });
    res.status(201).json(await deps.push.createPushLogin({ username, desktopKey, desktop: clientContextOf(req), app }));
  });

  router.post(`${base}/login`, async (req, res) => {
    const details = await interactionOf(req, res);
    if (details.prompt.name !== "login") throw new AppError("LOGIN_CONFLICT", "This step is not a sign-in.");
    const session = await desktopSession(req);
    if (session === null || !sessionSatisfies(details, session)) {
      throw new AppError("UNAUTHENTICATED", "Sign in on this page first.");
    }
    const redirectTo = await provider.interactionResult(req, res, {
      login: {
        accountId: session.userId,
        acr: COUNTERSIGN_ACR,
        amr: PASSKEY_AMR,
        ts: Math.floor(session.createdAt / 1000),
        remember: true,
      },
    });
    const body: InteractionRedirectResponse = { redirectTo };
    res.set("Cache-Control", "no-store").json(body);
  });

  router.post(`${base}/consent`, async (req, res) => {
    const details = await interactionOf(req, res);
    if (details.prompt.name !== "consent" || details.session === undefined) {
      throw new AppError("LOGIN_CONFLICT", "This step is not asking for consent.");
    }
    const clientId = String(details.params.client_id);
    const grant =
      (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ??
      new provider.Grant({ accountId: details.session.accountId, clientId });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    const grantId = await grant.save();
    const redirectTo = await provider.interactionResult(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
    const body: InteractionRedirectResponse = { redirectTo };
    res.set("Cache-Control", "no-store").json(body);
  });

  router.post(`${base}/abort`, async (req, res) => {
    await interactionOf(req, res);
    const redirectTo = await provider.interactionResult(
      req,
      res,
      { error: "access_denied", error_description: "The person cancelled the sign-in." },
      { mergeWithLastSubmission: false },
    );
    const body: InteractionRedirectResponse = { redirectTo };
    res.set("Cache-Control", "no-store").json(body);
  });

  return router;
}
