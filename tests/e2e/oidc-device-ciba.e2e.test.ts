import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import * as oidc from "openid-client";
import { API_PATHS } from "@countersign/shared";
import {
  addVirtualAuthenticator,
  chromiumAvailable,
  launchChromium,
  PHONE_CONTEXT,
  snapshot,
} from "../src/support/browser.js";
import { startTestServer, type TestServer } from "../src/support/test-server.js";

/**
 * The sign-ins that start away from any browser, seen on the phone in a real browser: a TV app's
 * device authorization grant (RFC 8628) and a server's CIBA request. The TV and the app's server
 * are this test, speaking OAuth to Countersign; the phone is Chromium with a virtual passkey.
 */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The built front ends, which an in-process test server serves as main.ts does. */
const APPS = { webDist: path.join(REPO_ROOT, "web/dist"), approverDist: path.join(REPO_ROOT, "approver/dist") };

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const CIBA_GRANT = "urn:openid:params:grant-type:ciba";
const TV_UA =
  "Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) Version/7.0 TV Safari/537.36";

/** A TV app: public, no secret, the device grant only. */
const TV = {
  client_id: "notes-tv",
  client_name: "Notes on the TV",
  token_endpoint_auth_method: "none",
  grant_types: [DEVICE_GRANT, "refresh_token"],
};

/** A bank's call centre: its server asks for the person's approval and polls for the answer. */
const CALL_CENTRE = {
  client_id: "call-centre",
  client_name: "Bank call centre",
  client_secret: "a-long-enough-secret-for-the-call-centre-0123456789",
  grant_types: [CIBA_GRANT, "refresh_token"],
};

const STEP_TIMEOUT_MS = 10_000;

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

let dir: string;
let server: TestServer;
let browser: Browser;
let contexts: BrowserContext[] = [];
/** Anything the browser refused under the server's Content-Security-Policy. */
let cspViolations: string[] = [];

/**
 * A phone of its own, with a virtual passkey authenticator, enrolled through the approver's
 * screens. Its Date is pinned to the server's fake clock, so the review's "Time left" reads as
 * the server counts (its timers still run).
 */
async function enrolledPhone(username: string, displayName: string): Promise<Page> {
  const context = await browser.newContext(PHONE_CONTEXT);
  // Under the test's own timeout, so a step that never comes fails naming what it waited for.
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  contexts.push(context);
  await context.clock.setFixedTime(server.clock.now());
  const phone = await context.newPage();
  phone.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  await addVirtualAuthenticator(context, phone);
  await phone.goto(`${server.origin}/approve/`);
  await phone.getByLabel("Username").fill(username);
  await phone.getByLabel("Your name").fill(displayName);
  await phone.getByRole("button", { name: "Create passkey" }).click();
  await phone.getByText(`Signed in as ${displayName}`).waitFor();
  return phone;
}

/** The person's id, as the phone's own session tells it: what an ID token's `sub` must be. */
async function userIdOf(phone: Page): Promise<string> {
  const response = await phone.context().request.get(`${server.origin}${API_PATHS.approverSession}`);
  expect(response.status()).toBe(200);
  return ((await response.json()) as { session: { user: { id: string } } }).session.user.id;
}

async function discover(client: { client_id: string; client_secret?: string }): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(`${server.origin}/oidc`),
    client.client_id,
    client.client_secret,
    client.client_secret === undefined ? oidc.None() : undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** The TV asks for a code, as a TV app would, with its own User-Agent. */
async function startOnTheTv(config: oidc.Configuration): Promise<oidc.DeviceAuthorizationResponse> {
  const response = await fetch(config.serverMetadata().device_authorization_endpoint!, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": TV_UA },
    body: new URLSearchParams({ client_id: TV.client_id, scope: "openid profile" }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as oidc.DeviceAuthorizationResponse;
}

/** One poll of the token endpoint: the tokens, or the OAuth error code it answered. */
async function poll(
  config: oidc.Configuration,
  grant: { type: string; parameters: Record<string, string> },
): Promise<{ tokens: Tokens } | { error: string }> {
  try {
    return { tokens: await oidc.genericGrantRequest(config, grant.type, grant.parameters) };
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) return { error: error.error };
    throw error;
  }
}

function tokensOf(result: { tokens: Tokens } | { error: string }): Tokens {
  if (!("tokens" in result)) throw new Error(`expected tokens, the token endpoint answered ${result.error}`);
  return result.tokens;
}

describe.skipIf(!chromiumAvailable())("sign-ins that start away from a browser, approved on the phone", () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "countersign-device-ciba-e2e-"));
    writeFileSync(path.join(dir, "clients.json"), JSON.stringify([TV, CALL_CENTRE]));
    server = await startTestServer({ apps: APPS, env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json") } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    contexts = [];
    cspViolations = [];
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    expect(cspViolations).toEqual([]);
  });

  it("device grant: the phone opens the TV's link, sees the app and the TV, approves, and the TV gets its tokens", async () => {
    const phone = await enrolledPhone("tess", "Tess");
    const config = await discover(TV);
    const started = await startOnTheTv(config);
    const device = { type: DEVICE_GRANT, parameters: { device_code: started.device_code } };
    expect(await poll(config, device)).toEqual({ error: "authorization_pending" });

    // As the phone's camera would, from the QR code the TV shows.
    await phone.goto(started.verification_uri_complete!);
    expect(phone.url()).toBe(`${server.origin}/approve/#/device/${started.user_code}`);
    const review = phone.getByRole("region", { name: "Sign in to Notes on the TV on a TV or other device?" });
    await review.waitFor();
    // The device that asks, as the server saw it: the TV's own system, not the phone's.
    await review.getByRole("definition").filter({ hasText: "Tizen" }).waitFor();
    await review.getByText(/^\d+ s$/).waitFor();
    await snapshot(phone, "device-phone-review");

    await review.getByRole("button", { name: "Approve" }).click();
    await phone.getByRole("status").filter({ hasText: "Approved for Tess." }).waitFor();
    await snapshot(phone, "device-phone-approved");

    // Decided: even a poll right after the last one gets its answer.
    const tokens = tokensOf(await poll(config, device));
    expect(tokens.claims()).toMatchObject({ sub: await userIdOf(phone), acr: "urn:countersign:passkey" });
  });

  it("device grant: the code typed on the phone opens the same review; 'This wasn't me' denies the TV", async () => {
    const phone = await enrolledPhone("tom", "Tom");
    const config = await discover(TV);
    const started = await startOnTheTv(config);

    // Typed as a person would copy it from the screen, without minding case.
    await phone.getByLabel("Code shown on the computer or device").fill(started.user_code.toLowerCase());
    await phone.getByRole("button", { name: "Continue" }).click();
    const review = phone.getByRole("region", { name: "Sign in to Notes on the TV on a TV or other device?" });
    await review.waitFor();
    await review.getByRole("definition").filter({ hasText: "Tizen" }).waitFor();

    await review.getByRole("button", { name: "This wasn't me" }).click();
    await phone.getByRole("status").filter({ hasText: "Denied. Nobody was signed in." }).waitFor();
    await snapshot(phone, "device-phone-denied");
    expect(await poll(config, { type: DEVICE_GRANT, parameters: { device_code: started.device_code } })).toEqual({
      error: "access_denied",
    });
  });

  it("CIBA: the app's request appears on the open phone by itself, with its message; approving gives the app tokens", async () => {
    const phone = await enrolledPhone("cora", "Cora");
    // A fresh home screen whose inbox has loaded: from here on, a request can only arrive on the socket.
    const inboxLoaded = phone.waitForResponse((response) => response.url().endsWith(API_PATHS.approverInbox));
    await phone.goto(`${server.origin}/approve/`);
    expect((await inboxLoaded).status()).toBe(200);
    let navigations = 0;
    phone.on("framenavigated", (frame) => {
      if (frame === phone.mainFrame()) navigations += 1;
    });

    const config = await discover(CALL_CENTRE);
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: "openid profile",
      login_hint: "cora",
      binding_message: "Call 4711",
    });
    const ciba = { type: CIBA_GRANT, parameters: { auth_req_id: started.auth_req_id } };
    expect(await poll(config, ciba)).toEqual({ error: "authorization_pending" });

    const card = phone.getByRole("article", { name: "Sign in to Bank call centre?" });
    await card.getByRole("heading", { name: "Sign in to Bank call centre?" }).waitFor();
    await card.getByText("Bank call centre says it shows: Call 4711").waitFor();
    // An app's request has no number to pick: only the message to compare, and the way out.
    expect(await card.getByRole("button").allInnerTexts()).toEqual(["It matches: continue", "This wasn't me"]);
    await snapshot(phone, "ciba-phone-card");

    await card.getByRole("button", { name: "It matches: continue" }).click();
    await card.getByRole("button", { name: "Approve" }).click();
    await phone.getByRole("status").filter({ hasText: "Approved." }).waitFor();
    // Decided here, so it leaves the inbox.
    await card.waitFor({ state: "detached" });
    await snapshot(phone, "ciba-phone-approved");
    expect(navigations).toBe(0);

    const tokens = tokensOf(await poll(config, ciba));
    expect(tokens.claims()).toMatchObject({ sub: await userIdOf(phone), acr: "urn:countersign:passkey" });
  });
});
