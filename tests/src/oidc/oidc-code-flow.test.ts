import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import {
  API_PATHS,
  INTERACTION_PATHS,
  parseInteractionPath,
  type CreatePushLoginResponse,
  type InboxResponse,
} from "@countersign/shared";
import { enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import {
  discoverProvider,
  followRedirects,
  interactionDetails as details,
  signInToApp,
  signInWithQr,
  submitInteraction as submit,
} from "../support/oidc-sign-in.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const CLIENT = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
  redirect_uris: ["http://localhost:4000/callback"],
  post_logout_redirect_uris: ["http://localhost:4000/signed-out"],
  grant_types: ["authorization_code", "refresh_token"],
};

let dir: string;
let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "countersign-oidc-"));
  writeFileSync(path.join(dir, "clients.json"), JSON.stringify([CLIENT]));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  server = await startTestServer({ env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json") } });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "olga", displayName: "Olga" });
});

afterEach(async () => {
  await server.close();
});

/** The app's view of the provider, as the "notes" client. */
function discover(): Promise<oidc.Configuration> {
  return discoverProvider(server.origin, CLIENT);
}

function follow(browser: HttpClient, url: string): Promise<string> {
  return followRedirects(browser, url, server.origin);
}

/** Olga's first sign-in to Notes in a new browser, answering the consent step with `answer`. */
function signInToNotes(
  config: oidc.Configuration,
  options: { answer: "consent" | "abort" },
): ReturnType<typeof signInToApp> {
  return signInToApp({ origin: server.origin, phone, authenticator }, config, {
    appName: CLIENT.client_name,
    redirectUri: CLIENT.redirect_uris[0]!,
    answer: options.answer,
  });
}

describe("Countersign as an OpenID Provider: authorization code with PKCE", () => {
  it("a push sign-in from the app's page names the app on the phone; only that browser can start it", async () => {
    const config = await discover();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CLIENT.redirect_uris[0]!,
      scope: "openid",
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
    });
    const browser = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const uid = parseInteractionPath(new URL(await follow(browser, authorizationUrl.toString())).pathname)!;
    const created = await browser.post<CreatePushLoginResponse>(INTERACTION_PATHS.pushLogins(uid), {
      username: "olga",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const inbox = await phone.get<InboxResponse>(API_PATHS.approverInbox);
    expect(inbox.body.requests).toEqual([
      expect.objectContaining({
        id: created.body.login.id,
        app: { name: "Notes", via: "browser", bindingMessage: null },
        choices: expect.arrayContaining([created.body.matchNumber]),
      }),
    ]);
    // Only this browser's interaction can start it: another browser has no interaction cookie.
    const stranger = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    expect((await stranger.post(INTERACTION_PATHS.pushLogins(uid), { username: "olga" })).status).toBe(404);
    expect((await browser.post(INTERACTION_PATHS.pushLogins(uid), { username: 42 })).status).toBe(400);
  });

  it("serves discovery and a JWKS with the signing keys", async () => {
    const config = await discover();
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(`${server.origin}/oidc`);
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    const jwks = await fetch(metadata.jwks_uri!).then((response) => response.json() as Promise<{ keys: object[] }>);
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) expect(key).not.toHaveProperty("d");
  });

  it("signs in with the QR code, asks for consent once, and hands the app an ID token for the person", async () => {
    const config = await discover();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CLIENT.redirect_uris[0]!,
      scope: "openid profile",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const browser = new HttpClient(server.origin, { userAgent: DESKTOP_UA });

    const loginPage = await follow(browser, authorizationUrl.toString());
    const loginUid = parseInteractionPath(new URL(loginPage).pathname)!;
    expect(await details(browser, loginUid)).toMatchObject({
      prompt: "login",
      client: { name: "Notes" },
      scopes: ["openid", "profile"],
      signedIn: false,
    });
    // Not signed in yet: the step cannot be finished.
    expect((await browser.post(INTERACTION_PATHS.login(loginUid), {})).status).toBe(401);

    await signInWithQr(
      { origin: server.origin, phone, authenticator },
      { desktop: browser, uid: loginUid, appName: "Notes" },
    );
    const consentPage = await follow(browser, await submit(browser, INTERACTION_PATHS.login(loginUid)));
    const consentUid = parseInteractionPath(new URL(consentPage).pathname)!;
    expect(await details(browser, consentUid)).toMatchObject({ prompt: "consent", client: { name: "Notes" } });

    const callback = await follow(browser, await submit(browser, INTERACTION_PATHS.consent(consentUid)));
    expect(callback.startsWith(CLIENT.redirect_uris[0]!)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const claims = tokens.claims()!;
    const user = (await phone.get<{ session: { user: { id: string } } }>(API_PATHS.approverSession)).body.session.user;
    expect(claims.sub).toBe(user.id);
    expect(claims.amr).toEqual(["hwk", "mfa"]);
    expect(typeof claims.auth_time).toBe("number");
    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, preferred_username: "olga", name: "Olga" });

    // The same browser again: signed in and consented, so straight back with a code.
    const again = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CLIENT.redirect_uris[0]!,
      scope: "openid profile",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const shortcut = await follow(browser, again.toString());
    expect(shortcut.startsWith(CLIENT.redirect_uris[0]!)).toBe(true);
    expect(new URL(shortcut).searchParams.get("code")).not.toBeNull();

    // Signed out of Countersign on this browser: the provider's own cookie no longer suffices.
    expect((await browser.delete(API_PATHS.session)).status).toBe(204);
    const afterSignOut = await follow(browser, again.toString());
    const uid = parseInteractionPath(new URL(afterSignOut).pathname);
    expect(uid).not.toBeNull();
    expect(await details(browser, uid!)).toMatchObject({ prompt: "login", signedIn: false });
  });

  it("refuses a code with the wrong PKCE verifier, and a replayed code, with the OAuth errors", async () => {
    const config = await discover();
    const { callback, verifier, state } = await signInToNotes(config, { answer: "consent" });

    const wrong = await oidc
      .authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: state,
      })
      .catch((error: unknown) => error);
    expect(wrong).toMatchObject({ error: "invalid_grant" });
    // The right verifier still works once; a replay of the code fails and revokes what it gave.
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const sub = tokens.claims()!.sub;
    expect(await oidc.fetchUserInfo(config, tokens.access_token, sub)).toMatchObject({ sub });
    const replay = await oidc
      .authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })
      .catch((error: unknown) => error);
    expect(replay).toMatchObject({ error: "invalid_grant" });
    const revoked = await oidc.fetchUserInfo(config, tokens.access_token, sub).catch((error: unknown) => error);
    expect(revoked).toBeInstanceOf(Error);
    // openid-client reports the userinfo endpoint's WWW-Authenticate challenge: invalid_token.
    expect(JSON.stringify((revoked as { cause?: unknown }).cause ?? revoked)).toMatch(/invalid_token/);
  });

  it("sends the person back to the app with access_denied when they cancel at consent", async () => {
    const { callback, state } = await signInToNotes(await discover(), { answer: "abort" });
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("state")).toBe(state);
  });

  it("at an app's logout, 'Yes, sign me out' also ends the browser's Countersign session", async () => {
    const config = await discover();
    const { browser, start, callback, verifier, state } = await signInToNotes(config, { answer: "consent" });
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect((await browser.get(API_PATHS.session)).status).toBe(200);

    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: CLIENT.post_logout_redirect_uris[0]!,
      state: "bye",
    });
    const confirm = await browser.request<string>("GET", logout.toString());
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain("Sign out of Countersign on this browser?");
    // The page's form, submitted with "Yes, sign me out", as the browser would.
    const form = Object.fromEntries(
      [...confirm.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((match) => [
        match[1]!,
        match[2]!,
      ]),
    );
    const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)![1]!;
    const done = await browser.request("POST", action, {
      rawBody: new URLSearchParams({ ...form, logout: "yes" }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${CLIENT.post_logout_redirect_uris[0]!}?state=bye`);
    expect((await browser.get(API_PATHS.session)).status).toBe(401);

    // The next sign-in to the app asks again.
    const again = await follow(browser, start.toString());
    const uid = parseInteractionPath(new URL(again).pathname);
    expect(uid).not.toBeNull();
    expect(await details(browser, uid!)).toMatchObject({ prompt: "login", signedIn: false });
  });

  it("refuses an unknown redirect_uri without redirecting anywhere", async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: "https://evil.example/callback",
      scope: "openid",
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
    });
    const response = await new HttpClient(server.origin, { userAgent: DESKTOP_UA }).request("GET", url.toString());
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    expect(String(response.body)).toContain("redirect_uri");
  });
});
