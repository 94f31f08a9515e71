import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createRelyingParty, SESSION_COOKIE, type RelyingParty } from "@countersign/example-relying-party";
import { API_PATHS } from "@countersign/shared";
import {
  addVirtualAuthenticator,
  chromiumAvailable,
  decodeQr,
  DESKTOP_CONTEXT,
  launchChromium,
  PHONE_CONTEXT,
  snapshot,
} from "../src/support/browser.js";
import { freePort, startServerProcess, type ServerProcess } from "../src/support/server-process.js";

/**
 * The example app of examples/relying-party, signing in with Countersign over OpenID Connect in a
 * real browser: openid-client on one side, oidc-provider and the QR page on the other, the phone's
 * passkey in between. Countersign is told about the example by the example's own clients file.
 */
const SHIPPED_CLIENTS_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../examples/relying-party/countersign-clients.json",
);
/** Where the shipped clients file expects the example; the test runs it on a free port instead. */
const SHIPPED_URL = "http://localhost:4000";

type ShippedClient = { client_id: string; client_name: string };

/** A second app, confidential: it proves itself with a secret (client_secret_basic). */
const CONFIDENTIAL = {
  client_id: "example-confidential",
  client_name: "Example app with a secret",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
};

const STEP_TIMEOUT_MS = 10_000;

let dir: string;
let server: ServerProcess;
/** Countersign; localhost, not 127.0.0.1: a WebAuthn RP ID must be a domain name. */
let origin: string;
let shipped: ShippedClient;
let example: { url: string; app: RelyingParty };
let confidential: { url: string; app: RelyingParty };
/** What the example apps logged: only failures are logged, so this stays empty. */
const exampleLog: string[] = [];
let browser: Browser;
let phone: Page;
let contexts: BrowserContext[] = [];
let cspViolations: string[] = [];

/** A page in a new context; every Content-Security-Policy violation in it is recorded. */
async function openPage(options: typeof DESKTOP_CONTEXT | typeof PHONE_CONTEXT): Promise<Page> {
  const context = await browser.newContext(options);
  // Under the test's own timeout, so a step that never comes fails naming what it waited for.
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  return page;
}

/** A desktop browser of its own, closed after the test. */
async function openDesktop(): Promise<Page> {
  const page = await openPage(DESKTOP_CONTEXT);
  contexts.push(page.context());
  return page;
}

/** The example app in this process, on `port`, as `npm run example` would start it. */
async function startExample(options: { port: number; clientId: string; clientSecret?: string }): Promise<{
  url: string;
  app: RelyingParty;
}> {
  const url = `http://localhost:${options.port}`;
  const app = await createRelyingParty({
    issuer: `${origin}/oidc`,
    clientId: options.clientId,
    clientSecret: options.clientSecret ?? null,
    publicUrl: url,
    port: options.port,
    host: "127.0.0.1",
    log: (line) => exampleLog.push(line),
  });
  await app.listen();
  return { url, app };
}

/**
 * The phone scans the QR on the desktop's Countersign page, sees the app's name, and approves.
 * `snapshots` saves screenshots of both screens.
 */
async function approveWithPhone(desktop: Page, options: { appName: string; snapshots?: boolean }): Promise<void> {
  const { appName } = options;
  await desktop.getByRole("heading", { name: `Sign in to ${appName}` }).waitFor();
  expect(new URL(desktop.url()).origin).toBe(origin);
  if (options.snapshots === true) await snapshot(desktop, "oidc-desktop-qr");
  await phone.goto(await decodeQr(desktop.getByRole("img", { name: /QR code/ })));
  await phone.getByRole("heading", { name: `Sign in to ${appName} on a computer?` }).waitFor();
  if (options.snapshots === true) await snapshot(phone, "oidc-phone-review");
  await phone.getByRole("button", { name: "Approve" }).click();
  await phone.getByText("You can return to your computer").waitFor();
}

/** The consent step: the app is not first-party, so Countersign asks what it may see. */
async function allow(desktop: Page, options: { appName: string; snapshots?: boolean }): Promise<void> {
  await desktop.getByRole("heading", { name: `Allow ${options.appName} to use your Countersign account?` }).waitFor();
  await desktop.getByText("See your username and your name").waitFor();
  if (options.snapshots === true) await snapshot(desktop, "oidc-desktop-consent");
  await desktop.getByRole("button", { name: "Allow" }).click();
}

/** A browser new to the app: the QR, the phone's approval, consent, and signed in to the app. */
async function signInFirstTime(desktop: Page, app: { url: string; appName: string }): Promise<void> {
  await desktop.goto(app.url);
  await desktop.getByRole("link", { name: "Sign in with Countersign" }).click();
  await approveWithPhone(desktop, { appName: app.appName });
  await allow(desktop, { appName: app.appName });
  await desktop.getByRole("heading", { name: "Signed in as Nora Example" }).waitFor();
  expect(desktop.url()).toBe(`${app.url}/`);
}

/** Every page the desktop's tab shows from now on (redirects pass through without showing). */
function pagesShown(page: Page): string[] {
  const shown: string[] = [];
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) shown.push(frame.url());
  });
  return shown;
}

describe.skipIf(!chromiumAvailable())("the example app signs in with Countersign (OpenID Connect)", () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "countersign-example-e2e-"));
    const [examplePort, confidentialPort, countersignPort] = await threeFreePorts();
    origin = `http://localhost:${countersignPort}`;
    // The example's own clients file, with the example's actual port, and one confidential app.
    const shippedText = readFileSync(SHIPPED_CLIENTS_FILE, "utf8");
    expect(shippedText).toContain(SHIPPED_URL);
    const clients = JSON.parse(shippedText.replaceAll(SHIPPED_URL, `http://localhost:${examplePort}`)) as [
      ShippedClient,
    ];
    shipped = clients[0];
    const confidentialUrl = `http://localhost:${confidentialPort}`;
    writeFileSync(
      path.join(dir, "clients.json"),
      JSON.stringify([
        ...clients,
        {
          ...CONFIDENTIAL,
          redirect_uris: [`${confidentialUrl}/callback`],
          post_logout_redirect_uris: [`${confidentialUrl}/`],
        },
      ]),
    );
    server = await startServerProcess({
      port: countersignPort,
      env: { PUBLIC_ORIGIN: origin, OIDC_CLIENTS_FILE: path.join(dir, "clients.json") },
    });
    example = await startExample({ port: examplePort, clientId: shipped.client_id });
    confidential = await startExample({
      port: confidentialPort,
      clientId: CONFIDENTIAL.client_id,
      clientSecret: CONFIDENTIAL.client_secret,
    });
    browser = await launchChromium();

    // One phone with one passkey for every test.
    phone = await openPage(PHONE_CONTEXT);
    await addVirtualAuthenticator(phone.context(), phone);
    await phone.goto(`${origin}/approve/`);
    await phone.getByLabel("Username").fill("nora");
    await phone.getByLabel("Your name").fill("Nora Example");
    await phone.getByRole("button", { name: "Create passkey" }).click();
    await phone.getByText("Signed in as Nora Example").waitFor();
    expect(cspViolations).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await example?.app.close();
    await confidential?.app.close();
    server?.kill("SIGTERM");
    await server?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    contexts = [];
    cspViolations = [];
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    expect(cspViolations).toEqual([]);
    expect(exampleLog).toEqual([]);
  });

  it("signs in with the QR and the phone's passkey, shows who signed in, and comes straight back the next time", async () => {
    const desktop = await openDesktop();
    await desktop.goto(example.url);
    await desktop.getByText("You are not signed in.").waitFor();
    await snapshot(desktop, "example-signed-out");

    // The example's authorization request: code, PKCE with S256, state and nonce.
    const authorizationRequest = desktop.waitForRequest((request) => request.url().startsWith(`${origin}/oidc/auth?`));
    await desktop.getByRole("link", { name: "Sign in with Countersign" }).click();
    const sent = new URL((await authorizationRequest).url()).searchParams;
    expect(Object.fromEntries(sent)).toMatchObject({
      client_id: shipped.client_id,
      response_type: "code",
      scope: "openid profile",
      redirect_uri: `${example.url}/callback`,
      code_challenge_method: "S256",
    });
    for (const name of ["code_challenge", "state", "nonce"]) expect(sent.get(name)).toMatch(/^[\w-]{43}$/);

    const callback = desktop.waitForRequest((request) => request.url().startsWith(`${example.url}/callback?`));
    await approveWithPhone(desktop, { appName: shipped.client_name, snapshots: true });
    await allow(desktop, { appName: shipped.client_name, snapshots: true });
    const callbackUrl = (await callback).url();
    expect(new URL(callbackUrl).searchParams.get("state")).toBe(sent.get("state"));

    // Back in the example, at its home page (the code is not left in the address bar).
    await desktop.getByRole("heading", { name: "Signed in as Nora Example" }).waitFor();
    expect(desktop.url()).toBe(`${example.url}/`);
    await snapshot(desktop, "example-signed-in");
    const phoneUser = (await (await phone.context().request.get(`${origin}${API_PATHS.approverSession}`)).json()) as {
      session: { user: { id: string } };
    };
    const shown = await claimsShown(desktop);
    expect(shown).toMatchObject({
      name: "Nora Example",
      preferred_username: "nora",
      sub: phoneUser.session.user.id,
      acr: "urn:countersign:passkey",
      amr: "hwk, mfa",
    });
    expect(Math.abs(Date.parse(shown.auth_time!) - Date.now())).toBeLessThan(60_000);
    const [cookie] = (await desktop.context().cookies(example.url)).filter(({ name }) => name === SESSION_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });

    // Another site's page cannot sign this browser out of the example, even holding its cookie
    // (SameSite=Lax would keep it from sending one; the Origin check stands behind that).
    const foreignSignOut = await fetch(`${example.url}/logout`, {
      method: "POST",
      headers: { origin: "http://localhost:1", cookie: `${SESSION_COOKIE}=${cookie!.value}` },
      redirect: "manual",
    });
    expect(foreignSignOut.status).toBe(403);
    await desktop.reload();
    await desktop.getByRole("heading", { name: "Signed in as Nora Example" }).waitFor();

    // The example's memory of the sign-in is single-use: a replayed callback finds nothing, and
    // leaves the signed-in browser signed in.
    await desktop.goto(callbackUrl);
    await desktop.getByRole("heading", { name: "This sign-in is no longer waiting" }).waitFor();
    await desktop.goto(example.url);
    await desktop.getByRole("heading", { name: "Signed in as Nora Example" }).waitFor();

    // The example forgets this browser (its session ended); Countersign has not: straight back,
    // no Countersign page on the way.
    await desktop.context().clearCookies({ name: SESSION_COOKIE });
    await desktop.reload();
    const shownOnTheWay = pagesShown(desktop);
    await desktop.getByRole("link", { name: "Sign in with Countersign" }).click();
    await desktop.getByRole("heading", { name: "Signed in as Nora Example" }).waitFor();
    expect(shownOnTheWay).toEqual([`${example.url}/`]);
  });

  it("signs out of the app and of Countersign: back on the app's page, and the next sign-in asks the phone", async () => {
    const desktop = await openDesktop();
    await signInFirstTime(desktop, { url: example.url, appName: shipped.client_name });

    await desktop.getByRole("button", { name: "Sign out" }).click();
    await desktop.getByRole("heading", { name: "Sign out of Countersign on this browser?" }).waitFor();
    expect(new URL(desktop.url()).origin).toBe(origin);
    await snapshot(desktop, "oidc-logout-confirm");
    await desktop.getByRole("button", { name: "Yes, sign me out" }).click();
    await desktop.getByText("You are not signed in.").waitFor();
    expect(desktop.url()).toBe(`${example.url}/`);

    await desktop.getByRole("link", { name: "Sign in with Countersign" }).click();
    await desktop.getByRole("heading", { name: `Sign in to ${shipped.client_name}` }).waitFor();
    await desktop.getByRole("img", { name: /QR code/ }).waitFor();
  });

  it("a confidential app signs in the same way; signing out of the app alone keeps Countersign's session", async () => {
    const desktop = await openDesktop();
    await signInFirstTime(desktop, { url: confidential.url, appName: CONFIDENTIAL.client_name });
    expect(await claimsShown(desktop)).toMatchObject({ preferred_username: "nora", amr: "hwk, mfa" });

    await desktop.getByRole("button", { name: "Sign out" }).click();
    await desktop.getByRole("button", { name: "No, only from this app" }).click();
    await desktop.getByText("You are not signed in.").waitFor();
    expect(desktop.url()).toBe(`${confidential.url}/`);
    // Still signed in to Countersign on this browser.
    await desktop.goto(origin);
    await desktop.getByRole("heading", { name: "Signed in as Nora Example" }).waitFor();

    // So no QR the next time; but the library withdrew the app's grant at its sign-out: consent again.
    await desktop.goto(confidential.url);
    await desktop.getByRole("link", { name: "Sign in with Countersign" }).click();
    await allow(desktop, { appName: CONFIDENTIAL.client_name });
    await desktop.getByRole("heading", { name: "Signed in as Nora Example" }).waitFor();
  });
});

/** The claims the example's home page lists, by name. */
async function claimsShown(page: Page): Promise<Record<string, string | undefined>> {
  const list = page.getByLabel("Who you are");
  const terms = await list.locator("dt").allInnerTexts();
  const values = await list.locator("dd").allInnerTexts();
  return Object.fromEntries(terms.map((term, index) => [term, values[index]]));
}

/** Three free ports, none twice: each probe lets its port go before the next one asks. */
async function threeFreePorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [a, b, c] = ports;
  return [a!, b!, c!];
}
