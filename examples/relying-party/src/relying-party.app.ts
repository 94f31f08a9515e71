import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from "express";
import helmet from "helmet";
import * as oidc from "openid-client";
import { isLoopback, webUrlProblem } from "./relying-party.config.js";
import { homePage, problemPage, STYLESHEET } from "./relying-party.pages.js";
import { createBrowserSessions, type BrowserSessions, type SignedInPerson } from "./relying-party.sessions.js";

/**
 * The cookie that holds this browser's random token. Cookies ignore ports, so on localhost this
 * app shares a cookie jar with Countersign: the name must not be one of Countersign's.
 */
export const SESSION_COOKIE = "example_rp_session";

/** What the app asks for: who you are, and your names. It keeps no refresh token, so no offline_access. */
const SCOPE = "openid profile";

export interface RelyingPartyOptions {
  /** Countersign's issuer, e.g. http://localhost:3000/oidc; plain http only on loopback. */
  issuer: string;
  clientId: string;
  /** A confidential client's secret, sent with client_secret_basic. Default: null, a public client (PKCE only). */
  clientSecret?: string | null;
  /** Where browsers reach this app, scheme, host and port only; plain http only on loopback. */
  publicUrl: string;
  /** Default: 4000. 0 picks a free port. */
  port?: number;
  /** Default: 127.0.0.1. */
  host?: string;
  /** The name on this app's pages. Default: "Example app". */
  appName?: string;
  /** Default: in memory, with their own defaults. */
  sessions?: BrowserSessions;
  /** Where a line goes when something fails; never given a token or a secret. Default: nowhere. */
  log?: (line: string) => void;
}

export interface RelyingParty {
  app: Express;
  /** Starts listening; resolves with the port. */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/**
 * An app that signs people in with Countersign: authorization code with PKCE (S256), state and
 * nonce, through openid-client. It reads Countersign's discovery document first, so it fails
 * here, with a message, when Countersign is not there or does not know the client.
 */
export async function createRelyingParty(options: RelyingPartyOptions): Promise<RelyingParty> {
  const issuerProblem = webUrlProblem(options.issuer, { originOnly: false });
  if (issuerProblem !== null) throw new TypeError(`issuer ${issuerProblem}`);
  const publicUrlProblem = webUrlProblem(options.publicUrl, { originOnly: true });
  if (publicUrlProblem !== null) throw new TypeError(`publicUrl ${publicUrlProblem}`);

  const issuer = new URL(options.issuer);
  const publicUrl = new URL(options.publicUrl).origin;
  const appName = options.appName ?? "Example app";
  const sessions = options.sessions ?? createBrowserSessions();
  const log = options.log ?? ((): void => undefined);
  const secureCookie = publicUrl.startsWith("https:");
  const redirectUri = `${publicUrl}/callback`;
  const postLogoutRedirectUri = `${publicUrl}/`;

  const config = await discoverCountersign({
    issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret ?? null,
  });
  const endSessionEndpoint = config.serverMetadata().end_session_endpoint;

  const app = express();
  app.disable("x-powered-by");
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          "default-src": ["'none'"],
          "style-src": ["'self'"],
          "img-src": ["'self'"],
          "base-uri": ["'none'"],
          // Sign out posts here and is redirected to Countersign: form-action covers the redirect.
          "form-action": ["'self'", ...(endSessionEndpoint === undefined ? [] : [new URL(endSessionEndpoint).origin])],
          "frame-ancestors": ["'none'"],
        },
      },
      // Not helmet's "no-referrer": under it a browser sends "Origin: null" even on this app's own
      // form posts, and Sign out checks the Origin.
      referrerPolicy: { policy: "same-origin" },
      strictTransportSecurity: secureCookie,
    }),
  );
  app.use((_req, res, next) => {
    res.set("Cache-Control", "no-store");
    next();
  });

  const setToken = (res: Response, token: string): void => {
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: "lax", secure: secureCookie, path: "/" });
  };
  const clearToken = (res: Response): void => {
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: "lax", secure: secureCookie, path: "/" });
  };
  const problem = (res: Response, page: { status: number; title: string; message: string }): void => {
    res
      .status(page.status)
      .type("html")
      .send(problemPage({ appName, title: page.title, message: page.message }));
  };

  app.get("/style.css", (_req, res) => {
    res.set("Cache-Control", "public, max-age=3600").type("css").send(STYLESHEET);
  });

  app.get("/", (req, res) => {
    res.type("html").send(homePage({ appName, person: sessions.personOf(tokenOf(req)) }));
  });

  app.get("/login", async (req, res) => {
    const token = tokenOf(req);
    if (sessions.personOf(token) !== null) return res.redirect(303, "/");
    sessions.end(token);
    const pending = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
    };
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: "S256",
      state: pending.state,
      nonce: pending.nonce,
    });
    setToken(res, sessions.startSignIn(pending));
    res.redirect(303, authorizationUrl.href);
  });

  app.get("/callback", async (req, res) => {
    // Single use: a second arrival with the same cookie, or a replayed URL, finds nothing; the
    // cookie is left alone, so a stray callback does not sign a signed-in browser out.
    const pending = sessions.takePendingSignIn(tokenOf(req));
    if (pending === null) {
      return problem(res, {
        status: 400,
        title: "This sign-in is no longer waiting",
        message: "It expired, finished already, or was started in another browser. Start again.",
      });
    }
    let person: SignedInPerson;
    try {
      person = await redeemCallback({ config, url: new URL(req.originalUrl, publicUrl), pending });
    } catch (error) {
      clearToken(res);
      if (error instanceof oidc.AuthorizationResponseError) {
        // Countersign's answer, after the state matched: "access_denied" when the person said no.
        return problem(res, {
          status: 403,
          title: "Not signed in",
          message: `Countersign answered "${error.error}". Start again if you like.`,
        });
      }
      log(`sign-in failed: ${describeError(error)}`);
      return problem(res, {
        status: 502,
        title: "Sign-in failed",
        message: "Countersign's answer could not be used. Start again.",
      });
    }
    // A new token: whatever the browser held before the sign-in is worth nothing now.
    setToken(res, sessions.signIn(person));
    res.redirect(303, "/");
  });

  app.post("/logout", (req, res) => {
    // SameSite=Lax keeps the cookie off other sites' posts; a foreign Origin is refused as well.
    const origin = req.get("origin");
    if (origin !== undefined && origin !== publicUrl) {
      return problem(res, { status: 403, title: "Not signed out", message: "The request came from another site." });
    }
    sessions.end(tokenOf(req));
    clearToken(res);
    if (endSessionEndpoint === undefined) return res.redirect(303, "/");
    // openid-client adds client_id; no id_token_hint, so the ID token stays out of URLs (and logs).
    res.redirect(303, oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri }).href);
  });

  app.use((_req, res) => problem(res, { status: 404, title: "Not found", message: "There is no such page here." }));
  const handleError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    log(`request failed: ${describeError(error)}`);
    problem(res, { status: 500, title: "Something went wrong", message: "Start again from the home page." });
  };
  app.use(handleError);

  let server: Server | null = null;
  return {
    app,
    listen: () =>
      new Promise((resolve, reject) => {
        const listening = createServer(app);
        server = listening;
        listening.once("error", reject);
        listening.listen(options.port ?? 4000, options.host ?? "127.0.0.1", () => {
          resolve((listening.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve, reject) => {
        if (server === null) return resolve();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

/** Countersign's metadata and this client's way of proving itself, as openid-client keeps them. */
async function discoverCountersign(options: {
  issuer: URL;
  clientId: string;
  clientSecret: string | null;
}): Promise<oidc.Configuration> {
  const { issuer, clientId, clientSecret } = options;
  // Countersign's default for a confidential client is client_secret_basic; a public one sends none.
  const auth = clientSecret === null ? oidc.None() : oidc.ClientSecretBasic(clientSecret);
  try {
    return await oidc.discovery(issuer, clientId, undefined, auth, {
      // openid-client refuses plain http; the guard above allows it only on this machine.
      ...(issuer.protocol === "http:" && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
  } catch (error) {
    throw new Error(
      `Could not read Countersign's discovery document under ${issuer.href} (${describeError(error)}). ` +
        `Is Countersign running there, with OIDC_CLIENTS_FILE naming a clients file that lists "${clientId}"?`,
      { cause: error },
    );
  }
}

/** Checks the authorization response (state, PKCE, nonce, the ID token) and asks who signed in. */
async function redeemCallback(options: {
  config: oidc.Configuration;
  url: URL;
  pending: { state: string; nonce: string; codeVerifier: string };
}): Promise<SignedInPerson> {
  const { config, url, pending } = options;
  const tokens = await oidc.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: pending.codeVerifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims()!;
  // In the code flow the ID token carries no profile claims (OIDC Core 5.4): UserInfo has the names.
  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  return {
    sub: claims.sub,
    name: typeof info.name === "string" ? info.name : null,
    preferredUsername: typeof info.preferred_username === "string" ? info.preferred_username : null,
    acr: typeof claims.acr === "string" ? claims.acr : null,
    amr: Array.isArray(claims.amr) ? claims.amr.filter((value): value is string => typeof value === "string") : [],
    authTime: typeof claims.auth_time === "number" ? claims.auth_time : null,
  };
}

/** The browser's token from its Cookie header, or null. */
function tokenOf(req: Request): string | null {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator !== -1 && part.slice(0, separator).trim() === SESSION_COOKIE) {
      const value = part.slice(separator + 1).trim();
      return /^[\w-]{20,100}$/.test(value) ? value : null;
    }
  }
  return null;
}

/** An error's name, code and message, and its cause's: openid-client's never carry a token. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error && typeof error.code === "string" ? ` ${error.code}` : "";
  const oauthError = "error" in error && typeof error.error === "string" ? ` (${error.error})` : "";
  // The why is often in the cause: fetch's ECONNREFUSED, openid-client's failed check.
  const cause = error.cause instanceof Error ? ` (because ${describeError(error.cause)})` : "";
  return `${error.name}${code}${oauthError}: ${error.message}${cause}`;
}
