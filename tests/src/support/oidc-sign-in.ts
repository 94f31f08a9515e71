import * as oidc from "openid-client";
import { expect } from "vitest";
import {
  API_PATHS,
  INTERACTION_PATHS,
  parseInteractionPath,
  type CreateLoginResponse,
  type InteractionDetailsResponse,
  type InteractionRedirectResponse,
} from "@countersign/shared";
import { approveOpened, openFromQr } from "./flows.js";
import { DESKTOP_UA, HttpClient } from "./http-client.js";
import type { SoftAuthenticator } from "./soft-authenticator.js";

/**
 * Steps of signing in to an app with Countersign as its OpenID Provider, driven as a browser
 * and a phone would, each asserting that its own step succeeded. The app is openid-client.
 */

/** The server, and the phone (with its passkey) that approves the sign-ins. */
export interface OidcSignInParty {
  origin: string;
  phone: HttpClient;
  authenticator: SoftAuthenticator;
}

/** openid-client's view of the provider, for a confidential client (or a public one, without a secret). */
export async function discoverProvider(
  origin: string,
  client: { client_id: string; client_secret?: string },
): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(`${origin}/oidc`), client.client_id, client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Follows redirects by hand, as a browser would, until one leaves this server or reaches a page. */
export async function followRedirects(browser: HttpClient, url: string, origin: string): Promise<string> {
  let next = url;
  for (let hop = 0; hop < 10; hop += 1) {
    const response = await browser.request("GET", next);
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || location === null) return next;
    next = new URL(location, next).toString();
    if (!next.startsWith(origin)) return next;
    if (parseInteractionPath(new URL(next).pathname) !== null) return next;
  }
  throw new Error(`too many redirects from ${url}`);
}

/** The desktop signs in with the app's QR code, approved on the phone, which names the app. */
export async function signInWithQr(
  party: OidcSignInParty,
  options: { desktop: HttpClient; uid: string; appName: string },
): Promise<void> {
  const { desktop, uid } = options;
  const created = await desktop.post<CreateLoginResponse>(INTERACTION_PATHS.logins(uid), {});
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const login = created.body;
  const opened = await openFromQr(party.phone, login);
  expect(opened.review.app).toMatchObject({ name: options.appName, via: "browser" });
  const approved = await approveOpened(party.phone, party.authenticator, opened);
  expect(approved.status).toBe(200);
  const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
  expect(redeemed.status).toBe(200);
}

export async function interactionDetails(browser: HttpClient, uid: string): Promise<InteractionDetailsResponse> {
  const response = await browser.get<InteractionDetailsResponse>(INTERACTION_PATHS.details(uid));
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/** Posts a step of the interaction (login, consent, abort); resolves with where the browser goes next. */
export async function submitInteraction(browser: HttpClient, path: string): Promise<string> {
  const response = await browser.post<InteractionRedirectResponse>(path, {});
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.redirectTo;
}

/**
 * The whole browser side of a first sign-in to the app: its authorization request (PKCE, state),
 * the QR sign-in on the page, then the consent step answered with `answer`. Resolves with where
 * the browser is sent back to the app, and what the app needs to redeem it.
 *
 * @param options.scope default "openid".
 * @param options.prompt sent as is when given; offline_access is only granted with "consent".
 */
export async function signInToApp(
  party: OidcSignInParty,
  config: oidc.Configuration,
  options: { appName: string; redirectUri: string; answer: "consent" | "abort"; scope?: string; prompt?: string },
): Promise<{ browser: HttpClient; start: URL; callback: URL; verifier: string; state: string }> {
  const { origin } = party;
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const browser = new HttpClient(origin, { userAgent: DESKTOP_UA });
  const start = oidc.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope ?? "openid",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
  });
  const loginUid = parseInteractionPath(new URL(await followRedirects(browser, start.toString(), origin)).pathname)!;
  await signInWithQr(party, { desktop: browser, uid: loginUid, appName: options.appName });
  const consentUid = parseInteractionPath(
    new URL(await followRedirects(browser, await submitInteraction(browser, INTERACTION_PATHS.login(loginUid)), origin))
      .pathname,
  )!;
  const answer =
    options.answer === "consent" ? INTERACTION_PATHS.consent(consentUid) : INTERACTION_PATHS.abort(consentUid);
  const callback = new URL(await followRedirects(browser, await submitInteraction(browser, answer), origin));
  return { browser, start, callback, verifier, state };
}

export type GrantPoll = { tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers } | { error: string };

/** One poll of the token endpoint for a polled grant (device code, CIBA): its tokens, or the OAuth error it answered. */
export async function pollGrant(
  config: oidc.Configuration,
  grantType: string,
  parameters: Record<string, string>,
): Promise<GrantPoll> {
  try {
    return { tokens: await oidc.genericGrantRequest(config, grantType, parameters) };
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) return { error: error.error };
    throw error;
  }
}
