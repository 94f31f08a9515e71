import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { API_PATHS } from "@countersign/shared";
import { chromiumAvailable, launchChromium, PHONE_CONTEXT, snapshot } from "../src/support/browser.js";
import { enrolPhone } from "../src/support/flows.js";
import { HttpClient, PHONE_UA } from "../src/support/http-client.js";
import { discoverProvider, signInToApp } from "../src/support/oidc-sign-in.js";
import { SoftAuthenticator } from "../src/support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../src/support/test-server.js";

// "Apps you signed in to" on the phone's account screen, in the built approver app. The sign-in
// to the app runs over HTTP (as in tests/src/oidc/oidc-apps.test.ts); the phone's session is then
// handed to a real browser, which is what this looks at.

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const APPS = { webDist: path.join(REPO_ROOT, "web/dist"), approverDist: path.join(REPO_ROOT, "approver/dist") };
const NOTES = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
  redirect_uris: ["http://localhost:4000/callback"],
  grant_types: ["authorization_code", "refresh_token"],
  client_uri: "https://notes.example/",
};

let dir: string;
let server: TestServer;
let browser: Browser;
let context: BrowserContext | undefined;
let cspViolations: string[] = [];

/** A phone enrolled over HTTP with the software authenticator. */
async function enrolPerson(username: string): Promise<{ phone: HttpClient; authenticator: SoftAuthenticator }> {
  const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  const authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username, displayName: username });
  return { phone, authenticator };
}

/** The approver in a browser signed in with that phone's session cookie. */
async function openApprover(phone: HttpClient): Promise<Page> {
  context = await browser.newContext(PHONE_CONTEXT);
  await context.addCookies([...phone.cookies].map(([name, value]) => ({ name, value, url: server.origin })));
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  const appsLoaded = page.waitForResponse((response) => new URL(response.url()).pathname === API_PATHS.approverApps);
  await page.goto(`${server.origin}/approve/`);
  await page.getByRole("heading", { name: "Signed-in devices" }).waitFor();
  expect((await appsLoaded).status()).toBe(200);
  // And a frame for React to show what it answered.
  await page.evaluate("new Promise((resolve) => requestAnimationFrame(resolve))");
  return page;
}

describe.skipIf(!chromiumAvailable())("Apps you signed in to, on the phone", () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "countersign-apps-e2e-"));
    writeFileSync(path.join(dir, "clients.json"), JSON.stringify([NOTES]));
    server = await startTestServer({ env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json") }, apps: APPS });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
    expect(cspViolations).toEqual([]);
    cspViolations = [];
  });

  it("shows the app and what it can do, and removes its access after saying what follows", async () => {
    const olga = await enrolPerson("olga");
    const config = await discoverProvider(server.origin, NOTES);
    const { callback, verifier, state } = await signInToApp({ origin: server.origin, ...olga }, config, {
      appName: "Notes",
      redirectUri: NOTES.redirect_uris[0]!,
      answer: "consent",
      scope: "openid profile offline_access",
      prompt: "consent",
    });
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });

    const page = await openApprover(olga.phone);
    const section = page.getByRole("region", { name: "Apps you signed in to" });
    await section.getByText("Notes", { exact: true }).waitFor();
    for (const words of [
      "Know it is you (a stable id, not your username)",
      "See your username and your name",
      "Stay signed in when you are not using it",
    ]) {
      await section.getByText(words).waitFor();
    }
    expect(await section.getByRole("link", { name: "About Notes" }).getAttribute("href")).toBe(NOTES.client_uri);
    await snapshot(page, "phone-apps");

    // Opening the confirmation moves the focus to it; keeping access puts it back.
    await section.getByRole("button", { name: "Remove access for Notes" }).click();
    const confirm = section.getByRole("group", { name: "Remove access for Notes?" });
    await confirm
      .getByText("Notes will need you to approve again next time; it is signed out of your account.")
      .waitFor();
    expect(await page.evaluate<string>("document.activeElement.textContent")).toBe("Remove access for Notes?");
    await snapshot(page, "phone-apps-confirm");
    await confirm.getByRole("button", { name: "Keep access" }).click();
    expect(await page.evaluate<string>("document.activeElement.getAttribute('aria-label')")).toBe(
      "Remove access for Notes",
    );
    expect(await oidc.refreshTokenGrant(config, tokens.refresh_token!)).toHaveProperty("access_token");

    await section.getByRole("button", { name: "Remove access for Notes" }).click();
    await confirm.getByRole("button", { name: "Remove access" }).click();
    await section.getByRole("status").getByText("Notes no longer has access to your account.").waitFor();
    await section.getByText("No apps have access to your account.").waitFor();
    await snapshot(page, "phone-apps-removed");
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("shows no such section to a person no app has access to", async () => {
    const pat = await enrolPerson("pat");
    const page = await openApprover(pat.phone);
    await page.getByRole("heading", { name: "Passkeys" }).waitFor();
    expect(await page.getByRole("heading", { name: "Apps you signed in to" }).count()).toBe(0);
  });
});
