import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { parseInteractionPath } from "@countersign/shared";
import { enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { signInToApp, type OidcSignInParty } from "../support/oidc-sign-in.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/**
 * Bad input at every endpoint of the OpenID Provider gets the error the specs name (RFC 6749
 * §4.1.2.1 and §5.2, RFC 7636, RFC 7009, RFC 6750, OpenID Connect Core), with its exact status,
 * never a 500; and the server goes on serving. openid-client plays the app where it would send
 * the request; raw HTTP sends what it refuses to.
 */

/** One entry of the OIDC_CLIENTS_FILE, as these tests write it. */
interface TestClient {
  client_id: string;
  client_name: string;
  client_secret?: string;
  token_endpoint_auth_method?: "client_secret_basic" | "client_secret_post" | "none";
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  grant_types: string[];
}

/** Confidential, secret in the Authorization header, may refresh, one redirect URI. */
const NOTES: TestClient = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
  redirect_uris: ["http://localhost:4000/callback"],
  post_logout_redirect_uris: ["http://localhost:4000/signed-out"],
  grant_types: ["authorization_code", "refresh_token"],
};

/** Public (PKCE only), may refresh, two redirect URIs. */
const TASKS: TestClient = {
  client_id: "tasks",
  client_name: "Tasks",
  token_endpoint_auth_method: "none",
  redirect_uris: ["http://localhost:4001/callback", "http://localhost:4001/other-callback"],
  grant_types: ["authorization_code", "refresh_token"],
};

/** Confidential, secret in the body, without the refresh_token grant. */
const WIKI: TestClient = {
  client_id: "wiki",
  client_name: "Wiki",
  client_secret: "the-wiki-has-its-own-long-enough-secret-0123456789",
  token_endpoint_auth_method: "client_secret_post",
  redirect_uris: ["http://localhost:4002/callback"],
  grant_types: ["authorization_code"],
};

/** RFC 7636 appendix B: a well-formed S256 challenge. */
const CHALLENGE = "E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/** What a browser's address bar sends: it prefers a page. */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

let dir: string;
let server: TestServer;
let party: OidcSignInParty;
let issuer: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "countersign-oidc-bad-input-"));
  writeFileSync(path.join(dir, "clients.json"), JSON.stringify([NOTES, TASKS, WIKI]));
  server = await startTestServer({ env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json") } });
  issuer = `${server.origin}/oidc`;
  const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  const authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "olga", displayName: "Olga" });
  party = { origin: server.origin, phone, authenticator };
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

// Whatever a test sent, the provider must still answer the next app: discovery, and a good
// authorization request that reaches the sign-in page.
afterEach(async () => {
  const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
  expect(discovery.status).toBe(200);
  const start = await browserGet(authorizationUrl());
  expect(start.status).toBe(303);
  expect(parseInteractionPath(new URL(start.location!, server.origin).pathname)).not.toBeNull();
});

interface PlainResponse {
  status: number;
  contentType: string | null;
  location: string | null;
  wwwAuthenticate: string | null;
  text: string;
}

/** The OAuth error body of a JSON answer (RFC 6749 §5.2). */
interface OAuthErrorBody {
  error: string;
  error_description?: string;
}

async function plain(response: Response): Promise<PlainResponse> {
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    location: response.headers.get("location"),
    wwwAuthenticate: response.headers.get("www-authenticate"),
    text: await response.text(),
  };
}

/** A navigation in a browser: a page preferred, redirects not followed. */
async function browserGet(url: string): Promise<PlainResponse> {
  return plain(await fetch(url, { redirect: "manual", headers: { accept: BROWSER_ACCEPT, "user-agent": DESKTOP_UA } }));
}

/**
 * An authorization request of NOTES that would succeed, changed by `overrides` (null removes a
 * parameter); `raw` is appended to the query as it is, for what URLSearchParams would encode.
 */
function authorizationUrl(options: { overrides?: Record<string, string | null>; raw?: string } = {}): string {
  const params = new URLSearchParams();
  const wanted: Record<string, string | null> = {
    client_id: NOTES.client_id,
    redirect_uri: NOTES.redirect_uris[0]!,
    response_type: "code",
    scope: "openid",
    code_challenge: CHALLENGE,
    code_challenge_method: "S256",
    state: "state-of-the-app",
    ...options.overrides,
  };
  for (const [name, value] of Object.entries(wanted)) if (value !== null) params.set(name, value);
  return `${issuer}/auth?${params.toString()}${options.raw === undefined ? "" : `&${options.raw}`}`;
}

/** The error code on the provider's error page (renderError), or null if the page has none. */
function pageError(page: PlainResponse): string | null {
  return /<h1>Sign-in error<\/h1><p>([a-z_]+):/.exec(page.text)?.[1] ?? null;
}

/** Expects the error page: 400, HTML, no redirect anywhere, the error code shown. */
function expectErrorPage(page: PlainResponse, error: string): void {
  expect(page.status, page.text).toBe(400);
  expect(page.location).toBeNull();
  expect(page.contentType).toMatch(/^text\/html/);
  expect(pageError(page)).toBe(error);
}

/**
 * Expects an error response sent back to the app's registered redirect URI (RFC 6749 §4.1.2.1),
 * with `iss` (RFC 9207), in the query, or in the fragment for a response type that uses one.
 */
function expectRedirectError(
  response: PlainResponse,
  expected: { error: string; state: string | null; in?: "query" | "fragment" },
): void {
  expect(response.status, response.text).toBe(303);
  const location = new URL(response.location!);
  expect(`${location.origin}${location.pathname}`).toBe(NOTES.redirect_uris[0]);
  const params = expected.in === "fragment" ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
  expect(params.get("error")).toBe(expected.error);
  expect(params.get("state")).toBe(expected.state);
  expect(params.get("iss")).toBe(issuer);
}

/** RFC 6749 §2.3.1: the client id and secret are form-encoded, then joined and base64-encoded. */
function basicAuth(client: TestClient): string {
  const encode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(client.client_id)}:${encode(client.client_secret!)}`).toString("base64")}`;
}

/** How the client authenticates at the token and revocation endpoints, as it is registered. */
function clientAuthentication(client: TestClient): {
  headers: Record<string, string>;
  body: Record<string, string>;
} {
  switch (client.token_endpoint_auth_method) {
    case "none":
      return { headers: {}, body: { client_id: client.client_id } };
    case "client_secret_post":
      return { headers: {}, body: { client_id: client.client_id, client_secret: client.client_secret! } };
    default:
      return { headers: { authorization: basicAuth(client) }, body: {} };
  }
}

/** A POST to one of the provider's endpoints, the body sent as given. */
async function postRaw(
  endpoint: string,
  init: { body: string | Buffer | ReadableStream; headers?: Record<string, string> },
): Promise<PlainResponse> {
  return plain(
    await fetch(`${issuer}${endpoint}`, {
      method: "POST",
      headers: init.headers ?? {},
      body: init.body,
      ...(init.body instanceof ReadableStream ? { duplex: "half" } : {}),
      redirect: "manual",
    } as RequestInit),
  );
}

/** A form POST with these parameters, authenticated `as` that client is registered. */
async function postForm(
  endpoint: string,
  options: { as: TestClient; params: Record<string, string> },
): Promise<PlainResponse> {
  const auth = clientAuthentication(options.as);
  return postRaw(endpoint, {
    headers: { "content-type": "application/x-www-form-urlencoded", ...auth.headers },
    body: new URLSearchParams({ ...auth.body, ...options.params }).toString(),
  });
}

/** Expects a JSON OAuth error (RFC 6749 §5.2) with this status and code; `what` names the case. */
function expectJsonError(
  response: PlainResponse,
  expected: { status: number; error: string; what?: string },
): OAuthErrorBody {
  const what = `${expected.what ?? "response"}: ${response.text}`;
  expect(response.status, what).toBe(expected.status);
  expect(response.contentType, what).toMatch(/^application\/json/);
  const body = JSON.parse(response.text) as OAuthErrorBody;
  expect(body.error, what).toBe(expected.error);
  return body;
}

/** The userinfo endpoint with this Authorization header (or none). */
async function userinfo(authorization?: string): Promise<PlainResponse> {
  return plain(await fetch(`${issuer}/me`, { headers: authorization === undefined ? {} : { authorization } }));
}

/** Expects RFC 6750 §3.1: 401, invalid_token in the body and in the Bearer challenge. */
function expectInvalidToken(response: PlainResponse): void {
  expectJsonError(response, { status: 401, error: "invalid_token" });
  expect(response.wwwAuthenticate).toMatch(/^Bearer realm=".*", error="invalid_token"/);
}

/** Sends raw bytes on a new connection; resolves with everything the server answers before closing. */
async function rawHttp(request: Buffer): Promise<string> {
  const port = Number(new URL(server.origin).port);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.end(request));
    // No timer of its own: a server that neither answers nor closes fails the test by its timeout.
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

/** The app's view of the provider, authenticating as `client` is registered. */
async function discover(client: TestClient): Promise<oidc.Configuration> {
  const secret = client.client_secret ?? "";
  const auth =
    client.token_endpoint_auth_method === "none"
      ? oidc.None()
      : client.token_endpoint_auth_method === "client_secret_post"
        ? oidc.ClientSecretPost(secret)
        : oidc.ClientSecretBasic(secret);
  return oidc.discovery(new URL(issuer), client.client_id, undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

type AppSignIn = Awaited<ReturnType<typeof signInToApp>>;

/** A first sign-in to `client` in a new browser, consented; what the app needs to redeem it. */
async function signIn(
  client: TestClient,
  options: { scope?: string; prompt?: string } = {},
): Promise<{ config: oidc.Configuration; done: AppSignIn; code: string }> {
  const config = await discover(client);
  const done = await signInToApp(party, config, {
    appName: client.client_name,
    redirectUri: client.redirect_uris[0]!,
    answer: "consent",
    ...options,
  });
  const code = done.callback.searchParams.get("code");
  expect(code, done.callback.toString()).not.toBeNull();
  return { config, done, code: code! };
}

/** Redeems the sign-in's code with openid-client, as the app would. */
async function redeem(config: oidc.Configuration, done: AppSignIn): Promise<oidc.TokenEndpointResponse> {
  return oidc.authorizationCodeGrant(config, done.callback, {
    pkceCodeVerifier: done.verifier,
    expectedState: done.state,
  });
}

/** What openid-client rejected with, for a call that must fail. */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected the provider to refuse"),
    (error: unknown) => error,
  );
}

describe("the OpenID Provider's authorization endpoint refuses bad requests", () => {
  it("shows an error page for an unknown client_id, redirecting nowhere and echoing nothing", async () => {
    const page = await browserGet(authorizationUrl({ overrides: { client_id: '"><script>alert(1)</script>' } }));
    expectErrorPage(page, "invalid_client");
    expect(page.text).not.toContain("<script>");
    expectErrorPage(await browserGet(authorizationUrl({ overrides: { client_id: null } })), "invalid_request");
  });

  it("shows an error page for a redirect_uri that is not registered exactly, redirecting nowhere", async () => {
    for (const redirectUri of [
      "https://evil.example/callback",
      // Exact string match (RFC 6749 §3.1.2.3, OAuth security BCP): no prefixes, no extra query.
      `${NOTES.redirect_uris[0]!}/more`,
      `${NOTES.redirect_uris[0]!}?next=https://evil.example`,
      NOTES.redirect_uris[0]!.toUpperCase(),
      TASKS.redirect_uris[0]!,
    ]) {
      const page = await browserGet(authorizationUrl({ overrides: { redirect_uri: redirectUri } }));
      expectErrorPage(page, "invalid_redirect_uri");
    }
  });

  it("requires PKCE: no code_challenge, or the plain method, is invalid_request sent back to the app", async () => {
    // RFC 7636 §4.4.1: the server requires PKCE, so a request without it is invalid_request.
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { code_challenge: null } })), {
      error: "invalid_request",
      state: "state-of-the-app",
    });
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { code_challenge_method: null } })), {
      error: "invalid_request",
      state: "state-of-the-app",
    });
    // Only S256: "plain" would send the verifier itself through the browser.
    expectRedirectError(
      await browserGet(
        authorizationUrl({ overrides: { code_challenge_method: "plain", code_challenge: "p".repeat(64) } }),
      ),
      { error: "invalid_request", state: "state-of-the-app" },
    );
    // RFC 7636 §4.2: a challenge is 43 to 128 characters.
    for (const challenge of ["short", "c".repeat(129)]) {
      expectRedirectError(await browserGet(authorizationUrl({ overrides: { code_challenge: challenge } })), {
        error: "invalid_request",
        state: "state-of-the-app",
      });
    }
  });

  it("answers unsupported_response_type for a response type it does not offer, invalid_request for none", async () => {
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { response_type: "password" } })), {
      error: "unsupported_response_type",
      state: "state-of-the-app",
    });
    // The implicit flow would put tokens in the fragment; its error goes there too.
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { response_type: "token" } })), {
      error: "unsupported_response_type",
      state: "state-of-the-app",
      in: "fragment",
    });
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { response_type: null } })), {
      error: "invalid_request",
      state: "state-of-the-app",
    });
  });

  it("answers invalid_scope for a scope that is not scope syntax", async () => {
    // RFC 6749 §3.3: scope tokens are %x21 / %x23-5B / %x5D-7E, separated by spaces.
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { scope: 'openid "quoted\\' } })), {
      error: "invalid_scope",
      state: "state-of-the-app",
    });
  });

  it("ignores a scope it does not know, and tells the app which scope it granted (RFC 6749 §3.3)", async () => {
    const { config, done } = await signIn(NOTES, { scope: "openid calendar.write profile" });
    const tokens = await redeem(config, done);
    expect(tokens.scope?.split(" ").sort()).toEqual(["openid", "profile"]);
  });

  it("refuses a parameter given twice (RFC 6749 §3.1) with invalid_request, never reflecting it", async () => {
    // Twice the client: the provider cannot know whose redirect URI to trust, so a page.
    expectErrorPage(await browserGet(authorizationUrl({ raw: `client_id=${WIKI.client_id}` })), "invalid_request");
    // Twice the state: sent back to the app, without a state it could mistake for its own.
    expectRedirectError(await browserGet(authorizationUrl({ raw: "state=another" })), {
      error: "invalid_request",
      state: null,
    });
    expectRedirectError(await browserGet(authorizationUrl({ raw: "code_challenge_method=S256" })), {
      error: "invalid_request",
      state: "state-of-the-app",
    });
  });

  it("answers very long values with 4xx: the page for who and where, invalid_request otherwise", async () => {
    expectErrorPage(
      await browserGet(authorizationUrl({ overrides: { client_id: "c".repeat(8_000) } })),
      "invalid_client",
    );
    expectErrorPage(
      await browserGet(
        authorizationUrl({ overrides: { redirect_uri: `${NOTES.redirect_uris[0]!}${"r".repeat(8_000)}` } }),
      ),
      "invalid_redirect_uri",
    );
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { code_challenge: "c".repeat(8_000) } })), {
      error: "invalid_request",
      state: "state-of-the-app",
    });
    expectRedirectError(await browserGet(authorizationUrl({ overrides: { max_age: "9".repeat(8_000) } })), {
      error: "invalid_request",
      state: "state-of-the-app",
    });
  });

  it("answers invalid UTF-8 and control characters in the query with 4xx, never 500", async () => {
    for (const clientId of ["%FF%FE%C0%AF", "%E0%A4%A", "%00%01notes", "notes%00"]) {
      expectErrorPage(
        await browserGet(authorizationUrl({ overrides: { client_id: null }, raw: `client_id=${clientId}` })),
        "invalid_client",
      );
    }
    for (const redirectUri of ["%FF%FE", "http%3A%2F%2Flocalhost%3A4000%2Fcallback%C0%AF", "%E0%A4%A"]) {
      expectErrorPage(
        await browserGet(authorizationUrl({ overrides: { redirect_uri: null }, raw: `redirect_uri=${redirectUri}` })),
        "invalid_redirect_uri",
      );
    }
  });

  it("answers raw binary bytes in the request line with a 400 JSON error, then closes that connection", async () => {
    const junk = Buffer.concat([
      Buffer.from("GET /oidc/auth?client_id=notes&state="),
      Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0x7f, 0x00]),
      Buffer.from(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    ]);
    const answer = await rawHttp(junk);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('{"error":{"code":"MALFORMED_REQUEST"');
  });

  it("answers a query string larger than the header limit with 431 and a JSON error", async () => {
    const response = await plain(await fetch(authorizationUrl({ raw: `padding=${"p".repeat(64 * 1024)}` })));
    expect(response.status).toBe(431);
    expect(JSON.parse(response.text)).toMatchObject({ error: { code: "HEADERS_TOO_LARGE" } });
  });
});

describe("the OpenID Provider's token endpoint refuses bad requests", () => {
  it("answers bad client authentication with 401 invalid_client, and the code stays redeemable", async () => {
    const { config, done } = await signIn(NOTES);

    // openid-client with the wrong secret in the Authorization header: RFC 6749 §5.2 wants 401
    // and a WWW-Authenticate challenge for the scheme the client used.
    const wrongSecret = await discover({
      ...NOTES,
      client_secret: "not-the-secret-of-notes-at-all-0123",
    });
    const refused = await failureOf(redeem(wrongSecret, done));
    expect(refused).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    expect(refused).toMatchObject({
      status: 401,
      cause: [{ scheme: "basic", parameters: { error: "invalid_client" } }],
    });

    const redeemParams = {
      grant_type: "authorization_code",
      code: done.callback.searchParams.get("code")!,
      redirect_uri: NOTES.redirect_uris[0]!,
      code_verifier: done.verifier,
    };
    const unknown = { ...NOTES, client_id: "no-such-app" };
    for (const as of [
      unknown,
      { ...unknown, token_endpoint_auth_method: "client_secret_post" as const },
      { ...unknown, token_endpoint_auth_method: "none" as const },
      // A confidential client may not skip its secret by claiming to be public.
      { ...NOTES, token_endpoint_auth_method: "none" as const },
      // Nor use the secret of another.
      { ...NOTES, client_secret: WIKI.client_secret! },
    ]) {
      expectJsonError(await postForm("/token", { as, params: redeemParams }), { status: 401, error: "invalid_client" });
    }

    // None of that used the code up.
    const tokens = await redeem(config, done);
    expect(tokens.access_token).toBeTruthy();
  });

  it("answers a missing or wrong code_verifier, and a different redirect_uri, with invalid_grant", async () => {
    const { config, done, code } = await signIn(NOTES);
    const redeemParams = {
      grant_type: "authorization_code",
      code,
      redirect_uri: NOTES.redirect_uris[0]!,
      code_verifier: done.verifier,
    };
    const { code_verifier: _verifier, ...withoutVerifier } = redeemParams;
    // RFC 7636 §4.6: the code was issued with a challenge, so it needs the matching verifier.
    expectJsonError(await postForm("/token", { as: NOTES, params: withoutVerifier }), {
      status: 400,
      error: "invalid_grant",
    });
    expectJsonError(
      await postForm("/token", {
        as: NOTES,
        params: { ...redeemParams, code_verifier: oidc.randomPKCECodeVerifier() },
      }),
      { status: 400, error: "invalid_grant" },
    );
    // openid-client with the wrong verifier hears the same.
    expect(
      await failureOf(
        oidc.authorizationCodeGrant(config, done.callback, {
          pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
          expectedState: done.state,
        }),
      ),
    ).toMatchObject({ status: 400, error: "invalid_grant" });
    // A verifier that is not one at all (RFC 7636 §4.1: 43–128 unreserved characters).
    for (const verifier of ["short", "!".repeat(64), "v".repeat(129)]) {
      expectJsonError(await postForm("/token", { as: NOTES, params: { ...redeemParams, code_verifier: verifier } }), {
        status: 400,
        error: "invalid_request",
      });
    }
    // RFC 6749 §4.1.3: the redirect_uri must be the one the code was sent to.
    for (const redirectUri of ["http://localhost:4000/other", `${NOTES.redirect_uris[0]!}/`, "https://evil.example/"]) {
      expectJsonError(await postForm("/token", { as: NOTES, params: { ...redeemParams, redirect_uri: redirectUri } }), {
        status: 400,
        error: "invalid_grant",
      });
    }
    const { code: _code, ...withoutCode } = redeemParams;
    expectJsonError(await postForm("/token", { as: NOTES, params: withoutCode }), {
      status: 400,
      error: "invalid_request",
    });
    expectJsonError(await postForm("/token", { as: NOTES, params: { ...redeemParams, code: "not-a-code" } }), {
      status: 400,
      error: "invalid_grant",
    });

    // Each refusal left the code alone: the right request still redeems it.
    const tokens = await redeem(config, done);
    expect(tokens.access_token).toBeTruthy();
  });

  it("makes a client with two redirect URIs name the one the code went to (RFC 6749 §4.1.3)", async () => {
    const { done, code } = await signIn(TASKS);
    const params = { grant_type: "authorization_code", code, code_verifier: done.verifier };
    expectJsonError(await postForm("/token", { as: TASKS, params }), { status: 400, error: "invalid_request" });
    expectJsonError(
      await postForm("/token", { as: TASKS, params: { ...params, redirect_uri: TASKS.redirect_uris[1]! } }),
      { status: 400, error: "invalid_grant" },
    );
    const redeemed = await postForm("/token", {
      as: TASKS,
      params: { ...params, redirect_uri: TASKS.redirect_uris[0]! },
    });
    expect(redeemed.status, redeemed.text).toBe(200);
  });

  it("refuses a replayed code with invalid_grant, and revokes the tokens its first use issued", async () => {
    const { config, done, code } = await signIn(NOTES, { scope: "openid offline_access", prompt: "consent" });
    const tokens = await redeem(config, done);
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await userinfo(`Bearer ${tokens.access_token}`)).status).toBe(200);
    expect((await userinfo(`Bearer ${refreshed.access_token}`)).status).toBe(200);

    const replay = await postForm("/token", {
      as: NOTES,
      params: {
        grant_type: "authorization_code",
        code,
        redirect_uri: NOTES.redirect_uris[0]!,
        code_verifier: done.verifier,
      },
    });
    expectJsonError(replay, { status: 400, error: "invalid_grant" });

    // RFC 6749 §4.1.2: the server SHOULD revoke every token issued from that code.
    expectInvalidToken(await userinfo(`Bearer ${tokens.access_token}`));
    expectInvalidToken(await userinfo(`Bearer ${refreshed.access_token}`));
    expect(await failureOf(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
  });

  it("lets only one of several simultaneous redemptions of a code succeed", async () => {
    const { done, code } = await signIn(NOTES);
    const params = {
      grant_type: "authorization_code",
      code,
      redirect_uri: NOTES.redirect_uris[0]!,
      code_verifier: done.verifier,
    };
    const answers = await Promise.all(Array.from({ length: 5 }, () => postForm("/token", { as: NOTES, params })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400, 400, 400, 400]);
    for (const answer of answers.filter((each) => each.status !== 200)) {
      expectJsonError(answer, { status: 400, error: "invalid_grant" });
    }
  });

  it("answers unsupported_grant_type for a grant it does not offer, invalid_request without one", async () => {
    for (const grantType of ["password", "client_credentials", "implicit", "urn:example:made-up", "x".repeat(2_000)]) {
      expectJsonError(await postForm("/token", { as: NOTES, params: { grant_type: grantType } }), {
        status: 400,
        error: "unsupported_grant_type",
      });
    }
    expectJsonError(await postForm("/token", { as: NOTES, params: {} }), { status: 400, error: "invalid_request" });
    // RFC 6749 §3.2 and §5.2: each parameter at most once.
    expectJsonError(
      await postRaw("/token", {
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: basicAuth(NOTES) },
        body: "grant_type=refresh_token&grant_type=authorization_code&refresh_token=x",
      }),
      { status: 400, error: "invalid_request" },
    );
  });

  it("answers bodies that are not a form with 400 invalid_request in JSON", async () => {
    const authorization = basicAuth(NOTES);
    const form = "application/x-www-form-urlencoded";
    const binary = Buffer.from(Array.from({ length: 4_096 }, (_, index) => (index * 7_919 + 13) % 256));
    const cases: {
      name: string;
      headers: Record<string, string>;
      body: string | Buffer | (() => ReadableStream);
    }[] = [
      { name: "text", headers: { "content-type": "text/plain" }, body: "grant_type=refresh_token&refresh_token=x" },
      {
        name: "JSON",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "refresh_token", refresh_token: "x" }),
      },
      { name: "broken JSON", headers: { "content-type": "application/json" }, body: '{"grant_type":' },
      { name: "multipart", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x--" },
      { name: "binary as a form", headers: { "content-type": form }, body: binary },
      { name: "binary untyped", headers: { "content-type": "application/octet-stream" }, body: binary },
      { name: "a media type that is not one", headers: { "content-type": "///;;;" }, body: "grant_type=x" },
      { name: "gzip that is not", headers: { "content-type": form, "content-encoding": "gzip" }, body: binary },
      {
        name: "a huge form",
        headers: { "content-type": form },
        body: `grant_type=refresh_token&x=${"x".repeat(512 * 1024)}`,
      },
      {
        name: "a huge form, streamed without a length",
        headers: { "content-type": form },
        body: () => Readable.toWeb(Readable.from([Buffer.alloc(256 * 1024, "a")])) as ReadableStream,
      },
    ];
    for (const { name, headers, body } of cases) {
      const response = await postRaw("/token", {
        headers: { authorization, ...headers },
        body: typeof body === "function" ? body() : body,
      });
      expectJsonError(response, { status: 400, error: "invalid_request", what: name });
    }
  });

  it("drops the rest of a body too large to read, so the same connection serves the next request", async () => {
    // Chunked, so the provider starts reading before it can know the size, and stops at its limit.
    const chunk = `2000\r\n${"a".repeat(0x2000)}\r\n`;
    const answer = await rawHttp(
      Buffer.from(
        "POST /oidc/token HTTP/1.1\r\nHost: localhost\r\n" +
          `Authorization: ${basicAuth(NOTES)}\r\n` +
          "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n" +
          `${chunk.repeat(32)}0\r\n\r\n` +
          "GET /oidc/.well-known/openid-configuration HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      ),
    );
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) [A-Z]/g)].map((match) => Number(match[1]));
    expect(statuses).toEqual([400, 200]);
    expect(answer).toContain('{"error":"invalid_request"');
  });

  it("answers a malformed Authorization header with 400 invalid_request", async () => {
    for (const authorization of [
      "Basic %%%%",
      `Basic ${Buffer.from("no-colon-here").toString("base64")}`,
      `Basic ${Buffer.from("%E0%A4%A:%").toString("base64")}`,
      "Bearer abc",
    ]) {
      expectJsonError(
        await postRaw("/token", {
          headers: { "content-type": "application/x-www-form-urlencoded", authorization },
          body: "grant_type=refresh_token&refresh_token=x",
        }),
        { status: 400, error: "invalid_request" },
      );
    }
  });
});

describe("refresh tokens", () => {
  it("are issued only for offline_access asked with prompt=consent (OpenID Connect Core §11)", async () => {
    const withoutOffline = await signIn(NOTES, { scope: "openid" });
    const plainTokens = await redeem(withoutOffline.config, withoutOffline.done);
    expect(plainTokens.refresh_token).toBeUndefined();

    // Without prompt=consent, offline_access is dropped from the request.
    const withoutConsent = await signIn(NOTES, { scope: "openid offline_access" });
    const droppedTokens = await redeem(withoutConsent.config, withoutConsent.done);
    expect(droppedTokens.refresh_token).toBeUndefined();
    expect(droppedTokens.scope).toBe("openid");

    const offline = await signIn(NOTES, { scope: "openid offline_access", prompt: "consent" });
    const offlineTokens = await redeem(offline.config, offline.done);
    expect(offlineTokens.refresh_token).toBeTruthy();
    expect(offlineTokens.scope?.split(" ").sort()).toEqual(["offline_access", "openid"]);
  });

  it("are never issued to a client without the refresh_token grant, which cannot use that grant", async () => {
    const { config, done } = await signIn(WIKI, { scope: "openid offline_access", prompt: "consent" });
    const tokens = await redeem(config, done);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe("openid");
    const refused = await postForm("/token", {
      as: WIKI,
      params: { grant_type: "refresh_token", refresh_token: "anything" },
    });
    // RFC 6749 §5.2: a grant type the provider offers, but not to this client.
    expectJsonError(refused, { status: 400, error: "unauthorized_client" });
  });

  it("stay the same for a confidential client, and still work after a refresh", async () => {
    const { config, done } = await signIn(NOTES, { scope: "openid offline_access", prompt: "consent" });
    const tokens = await redeem(config, done);
    const first = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(first.access_token).not.toBe(tokens.access_token);
    expect(first.refresh_token).toBe(tokens.refresh_token);
    expect((await userinfo(`Bearer ${first.access_token}`)).status).toBe(200);
    const second = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(second.refresh_token).toBe(tokens.refresh_token);
    // RFC 6749 §6: no scope the grant did not have.
    expect(
      await failureOf(oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: "openid profile" })),
    ).toMatchObject({ status: 400, error: "invalid_scope" });
  });

  it("rotate for a public client; reusing a rotated one revokes the whole grant", async () => {
    const { config, done } = await signIn(TASKS, { scope: "openid offline_access", prompt: "consent" });
    const tokens = await redeem(config, done);
    const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(rotated.refresh_token).toBeTruthy();
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);

    // The old one again: a stolen copy, or the app's; either way the grant ends (OAuth 2.0
    // Security BCP §4.14.2), and the new tokens stop working too.
    expect(await failureOf(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
    expect(await failureOf(oidc.refreshTokenGrant(config, rotated.refresh_token!))).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
    expectInvalidToken(await userinfo(`Bearer ${rotated.access_token}`));
  });

  it("answer invalid_grant to another client presenting them, and keep working for their own", async () => {
    const { config, done, code } = await signIn(NOTES, { scope: "openid offline_access", prompt: "consent" });
    // The code first: RFC 6749 §4.1.3, it was issued to another client.
    expectJsonError(
      await postForm("/token", {
        as: TASKS,
        params: {
          grant_type: "authorization_code",
          code,
          redirect_uri: NOTES.redirect_uris[0]!,
          code_verifier: done.verifier,
        },
      }),
      { status: 400, error: "invalid_grant" },
    );
    const tokens = await redeem(config, done);
    const tasks = await discover(TASKS);
    expect(await failureOf(oidc.refreshTokenGrant(tasks, tokens.refresh_token!))).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
    // Nor may it pass the access token or the ID token off as a refresh token.
    for (const token of [tokens.access_token, tokens.id_token!]) {
      expectJsonError(
        await postForm("/token", { as: NOTES, params: { grant_type: "refresh_token", refresh_token: token } }),
        { status: 400, error: "invalid_grant" },
      );
    }
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
  });
});

describe("revocation, userinfo and end_session", () => {
  it("revokes a refresh token (RFC 7009), and with it the access tokens of its grant", async () => {
    const { config, done } = await signIn(NOTES, { scope: "openid offline_access", prompt: "consent" });
    const tokens = await redeem(config, done);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    expect(await failureOf(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
    // RFC 7009 §2.1: the access tokens of the same grant SHOULD go too.
    expectInvalidToken(await userinfo(`Bearer ${refreshed.access_token}`));
    // Revoking it again, or a token that never was: 200, so nothing can be learnt (§2.2).
    for (const token of [tokens.refresh_token!, "never-issued", "x".repeat(4_000)]) {
      const again = await postForm("/token/revocation", { as: NOTES, params: { token } });
      expect(again.status, again.text).toBe(200);
    }
  });

  it("refuses a revocation from the wrong client, or without a token, and revokes nothing", async () => {
    const { config, done } = await signIn(NOTES, { scope: "openid offline_access", prompt: "consent" });
    const tokens = await redeem(config, done);
    const wrongSecret = await postForm("/token/revocation", {
      as: { ...NOTES, client_secret: "not-the-secret-of-notes-at-all-0123" },
      params: { token: tokens.refresh_token! },
    });
    expectJsonError(wrongSecret, { status: 401, error: "invalid_client" });
    expect(wrongSecret.wwwAuthenticate).toMatch(/^Basic /);
    // RFC 7009 §2.1: the token was not issued to this client, so the request is refused.
    expectJsonError(await postForm("/token/revocation", { as: WIKI, params: { token: tokens.refresh_token! } }), {
      status: 400,
      error: "invalid_request",
    });
    expectJsonError(await postForm("/token/revocation", { as: NOTES, params: {} }), {
      status: 400,
      error: "invalid_request",
    });
    expectJsonError(
      await postRaw("/token/revocation", {
        headers: { "content-type": "application/json", authorization: basicAuth(NOTES) },
        body: JSON.stringify({ token: tokens.refresh_token }),
      }),
      { status: 400, error: "invalid_request" },
    );
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
  });

  it("answers userinfo without a usable bearer token with 401 invalid_token (RFC 6750 §3.1)", async () => {
    // No token at all: 401 and a bare challenge (§3.1: no error code when none was sent).
    const missing = await userinfo();
    expectJsonError(missing, { status: 401, error: "invalid_token" });
    expect(missing.wwwAuthenticate).toMatch(/^Bearer realm=/);
    for (const token of ["garbage", "a.b.c", "x".repeat(6_000), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]) {
      expectInvalidToken(await userinfo(`Bearer ${token}`));
    }
    // openid-client reports the same challenge.
    const config = await discover(NOTES);
    const refused = await failureOf(oidc.fetchUserInfo(config, "garbage", oidc.skipSubjectCheck));
    expect(refused).toMatchObject({ status: 401 });
    expect(JSON.stringify((refused as { cause?: unknown }).cause)).toContain('"error":"invalid_token"');
    // Malformed headers are the client's mistake in the request: 400 invalid_request.
    for (const authorization of ["Bearer", "Bearer ", "Basic abc"]) {
      expectJsonError(await userinfo(authorization), { status: 400, error: "invalid_request" });
    }
    // §2.3 query tokens are refused outright (they leak through logs and Referer).
    expectJsonError(await plain(await fetch(`${issuer}/me?access_token=garbage`)), {
      status: 400,
      error: "invalid_request",
    });
  });

  it("shows a 400 page for end_session with a garbage id_token_hint or an unregistered post-logout URI", async () => {
    for (const [hint, error] of [
      ["garbage", "invalid_request"],
      ["a.b.c", "invalid_request"],
      ["x".repeat(6_000), "invalid_request"],
      // Decodes, but names no client of ours as its audience.
      ["eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "invalid_client"],
    ] as const) {
      expectErrorPage(await browserGet(`${issuer}/session/end?${new URLSearchParams({ id_token_hint: hint })}`), error);
    }
    expectErrorPage(
      await browserGet(
        `${issuer}/session/end?${new URLSearchParams({
          client_id: NOTES.client_id,
          post_logout_redirect_uri: "https://evil.example/",
        })}`,
      ),
      "invalid_request",
    );
    expectErrorPage(await browserGet(`${issuer}/session/end?id_token_hint=a&id_token_hint=b`), "invalid_request");
    // The confirmation step without the form's xsrf value.
    const confirm = await postRaw("/session/end/confirm", {
      headers: { "content-type": "application/x-www-form-urlencoded", accept: BROWSER_ACCEPT },
      body: "xsrf=forged&logout=yes",
    });
    expectErrorPage(confirm, "invalid_request");
  });
});
