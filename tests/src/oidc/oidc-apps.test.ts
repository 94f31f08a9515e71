import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import {
  API_PATHS,
  parseInteractionPath,
  type ErrorResponse,
  type OidcAppsResponse,
  type SessionView,
} from "@countersign/shared";
import { enrolPhone } from "../support/flows.js";
import { HttpClient, PHONE_UA } from "../support/http-client.js";
import {
  discoverProvider,
  followRedirects,
  interactionDetails,
  signInToApp,
  type OidcSignInParty,
} from "../support/oidc-sign-in.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// "Apps you signed in to" on the phone (issue 12): the app is openid-client, signing in with
// code + PKCE against the real server; the phone lists the app and removes its access.

const NOTES = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
  redirect_uris: ["http://localhost:4000/callback"],
  grant_types: ["authorization_code", "refresh_token"],
  logo_uri: "https://notes.example/logo.png",
  client_uri: "https://notes.example/",
};
const JOURNAL = {
  client_id: "journal.app",
  client_name: "Journal",
  client_secret: "another-long-enough-secret-for-a-confidential-client-98765",
  redirect_uris: ["http://localhost:4001/callback"],
  grant_types: ["authorization_code", "refresh_token"],
};
const OFFLINE = { scope: "openid profile offline_access", prompt: "consent" } as const;

let dir: string;
let server: TestServer;
let olga: OidcSignInParty;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "countersign-oidc-apps-"));
  writeFileSync(path.join(dir, "clients.json"), JSON.stringify([NOTES, JOURNAL]));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A person with a phone enrolled on this server. */
async function enrolPerson(username: string): Promise<OidcSignInParty> {
  const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  const authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username, displayName: username });
  return { origin: server.origin, phone, authenticator };
}

async function appsOf(phone: HttpClient): Promise<OidcAppsResponse["apps"]> {
  const response = await phone.get<OidcAppsResponse>(API_PATHS.approverApps);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.apps;
}

/** A whole sign-in to the app and its code redeemed: the tokens the app then holds. */
async function signIn(
  party: OidcSignInParty,
  client: typeof NOTES | typeof JOURNAL,
  options: { scope?: string; prompt?: string } = OFFLINE,
): Promise<{ config: oidc.Configuration; tokens: oidc.TokenEndpointResponse; browser: HttpClient; sub: string }> {
  const config = await discoverProvider(server.origin, client);
  const { browser, callback, verifier, state } = await signInToApp(party, config, {
    appName: client.client_name,
    redirectUri: client.redirect_uris[0]!,
    answer: "consent",
    ...options,
  });
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return { config, tokens, browser, sub: tokens.claims()!.sub };
}

/** The OAuth error code a token or userinfo call failed with, or "ok". */
async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "ok",
    (error: unknown) => {
      const oauth = (error as { error?: unknown }).error;
      if (typeof oauth === "string") return oauth;
      // userinfo reports its WWW-Authenticate challenge as the cause.
      const challenge = JSON.stringify((error as { cause?: unknown }).cause ?? null);
      return /invalid_token/.test(challenge) ? "invalid_token" : String(error);
    },
  );
}

async function removeAccess(phone: HttpClient, clientId: string): Promise<{ status: number; code: string | null }> {
  const response = await phone.delete<ErrorResponse | "">(API_PATHS.approverApp(clientId));
  return {
    status: response.status,
    code: typeof response.body === "object" ? response.body.error.code : null,
  };
}

describe("Apps you signed in to: with the provider on", () => {
  beforeEach(async () => {
    server = await startTestServer({ env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json") } });
    olga = await enrolPerson("olga");
  });

  afterEach(async () => {
    await server.close();
  });

  it("lists an app once signed in to, and Remove access ends its tokens and asks for consent again", async () => {
    expect(await appsOf(olga.phone)).toEqual([]);
    // The library stamps its Grants with the real time, in seconds.
    const before = Math.floor(Date.now() / 1000) * 1000;
    const { config, tokens, browser, sub } = await signIn(olga, NOTES);
    expect(tokens.refresh_token).toEqual(expect.any(String));

    expect(await appsOf(olga.phone)).toEqual([
      {
        clientId: "notes",
        name: "Notes",
        logoUri: NOTES.logo_uri,
        clientUri: NOTES.client_uri,
        scopes: ["openid", "profile", "offline_access"],
        grantedAt: expect.any(Number),
      },
    ]);
    const { grantedAt } = (await appsOf(olga.phone))[0]!;
    expect(grantedAt).toBeGreaterThanOrEqual(before);
    expect(grantedAt).toBeLessThanOrEqual(Date.now());

    // While it has access: refresh works, and the same browser comes straight back with a code.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await outcomeOf(oidc.fetchUserInfo(config, refreshed.access_token, sub))).toBe("ok");
    const verifier = oidc.randomPKCECodeVerifier();
    const again = oidc.buildAuthorizationUrl(config, {
      redirect_uri: NOTES.redirect_uris[0]!,
      scope: "openid profile",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state: "again",
    });
    const shortcut = new URL(await followRedirects(browser, again.toString(), server.origin));
    expect(shortcut.toString().startsWith(NOTES.redirect_uris[0]!)).toBe(true);
    expect(shortcut.searchParams.get("code")).not.toBeNull();

    expect(await removeAccess(olga.phone, "notes")).toEqual({ status: 204, code: null });

    expect(await appsOf(olga.phone)).toEqual([]);
    const latestRefresh = refreshed.refresh_token ?? tokens.refresh_token!;
    expect(await outcomeOf(oidc.refreshTokenGrant(config, latestRefresh))).toBe("invalid_grant");
    expect(await outcomeOf(oidc.fetchUserInfo(config, tokens.access_token, sub))).toBe("invalid_token");
    expect(await outcomeOf(oidc.fetchUserInfo(config, refreshed.access_token, sub))).toBe("invalid_token");
    // The code issued just before is worthless too.
    expect(
      await outcomeOf(
        oidc.authorizationCodeGrant(config, shortcut, { pkceCodeVerifier: verifier, expectedState: "again" }),
      ),
    ).toBe("invalid_grant");

    // The same browser, still signed in to Countersign: the app must ask for consent again.
    const next = await followRedirects(browser, again.toString(), server.origin);
    const uid = parseInteractionPath(new URL(next).pathname);
    expect(uid, next).not.toBeNull();
    expect(await interactionDetails(browser, uid!)).toMatchObject({
      prompt: "consent",
      client: { name: "Notes" },
      signedIn: true,
    });
  });

  it("merges two grants of one app (two computers) into one entry, and removes both, not other apps", async () => {
    const first = await signIn(olga, NOTES, { scope: "openid" });
    const second = await signIn(olga, NOTES);
    const journal = await signIn(olga, JOURNAL);
    const apps = await appsOf(olga.phone);
    expect(apps.map((app) => [app.clientId, app.scopes])).toEqual([
      ["journal.app", ["openid", "profile", "offline_access"]],
      ["notes", ["openid", "profile", "offline_access"]],
    ]);

    expect(await removeAccess(olga.phone, "notes")).toEqual({ status: 204, code: null });

    expect((await appsOf(olga.phone)).map((app) => app.clientId)).toEqual(["journal.app"]);
    expect(await outcomeOf(oidc.fetchUserInfo(first.config, first.tokens.access_token, first.sub))).toBe(
      "invalid_token",
    );
    expect(await outcomeOf(oidc.refreshTokenGrant(second.config, second.tokens.refresh_token!))).toBe("invalid_grant");
    // Another app keeps its access.
    expect(await outcomeOf(oidc.refreshTokenGrant(journal.config, journal.tokens.refresh_token!))).toBe("ok");
    expect(await outcomeOf(oidc.fetchUserInfo(journal.config, journal.tokens.access_token, journal.sub))).toBe("ok");
  });

  it("shows another person nothing of it, and lets them remove nothing", async () => {
    const { config, tokens } = await signIn(olga, NOTES);
    const pat = await enrolPerson("pat");
    expect((await pat.phone.get<{ session: SessionView }>(API_PATHS.approverSession)).body.session.user.username).toBe(
      "pat",
    );

    expect(await appsOf(pat.phone)).toEqual([]);
    expect(await removeAccess(pat.phone, "notes")).toEqual({ status: 404, code: "NOT_FOUND" });

    expect((await appsOf(olga.phone)).map((app) => app.clientId)).toEqual(["notes"]);
    expect(await outcomeOf(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toBe("ok");
  });

  it("answers an app with no access or unknown with 404, a malformed id with 400, and keeps the app", async () => {
    await signIn(olga, NOTES);
    expect(await removeAccess(olga.phone, "journal.app")).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(await removeAccess(olga.phone, "no-such-app")).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(await removeAccess(olga.phone, "not an id")).toEqual({ status: 400, code: "VALIDATION_FAILED" });
    expect(await removeAccess(olga.phone, "x".repeat(101))).toEqual({ status: 400, code: "VALIDATION_FAILED" });
    expect((await appsOf(olga.phone)).map((app) => app.clientId)).toEqual(["notes"]);
  });

  it("refuses without the phone's session (401) and from another origin (403)", async () => {
    await signIn(olga, NOTES);
    const stranger = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const listed = await stranger.get<ErrorResponse>(API_PATHS.approverApps);
    expect([listed.status, listed.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
    expect(await removeAccess(stranger, "notes")).toEqual({ status: 401, code: "UNAUTHENTICATED" });

    // The phone's own cookie, sent by another site's page.
    const forged = new HttpClient(server.origin, { userAgent: PHONE_UA, origin: "https://evil.example" });
    for (const [name, value] of olga.phone.cookies) forged.cookies.set(name, value);
    expect(await removeAccess(forged, "notes")).toEqual({ status: 403, code: "ORIGIN_MISMATCH" });

    expect((await appsOf(olga.phone)).map((app) => app.clientId)).toEqual(["notes"]);
  });
});

describe("Apps you signed in to: with the provider off", () => {
  beforeEach(async () => {
    server = await startTestServer();
    olga = await enrolPerson("olga");
  });

  afterEach(async () => {
    await server.close();
  });

  it("lists no apps, and has none to remove", async () => {
    expect(await appsOf(olga.phone)).toEqual([]);
    expect(await removeAccess(olga.phone, "notes")).toEqual({ status: 404, code: "NOT_FOUND" });
  });
});
