import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
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

/** The app that signs in with Countersign. */
const CLIENT = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
};

let dir: string;
let app: Awaited<ReturnType<typeof startAppCallback>>;
let server: ServerProcess;
let origin: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const cspViolations: string[] = [];

async function openPage(options: typeof DESKTOP_CONTEXT | typeof PHONE_CONTEXT): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  await addVirtualAuthenticator(context, page);
  return page;
}

/** The app's authorization request, with PKCE, as any OIDC client library would build it. */
function authorizationUrl(state: string): string {
  const verifier = randomBytes(32).toString("base64url");
  const params = new URLSearchParams({
    client_id: CLIENT.client_id,
    response_type: "code",
    scope: "openid profile",
    redirect_uri: app.url,
    state,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  });
  return `${origin}/oidc/auth?${params.toString()}`;
}

/**
 * The app's callback: a real HTTP server on loopback that records every URL the browser is sent
 * back to the app with, in order, and lets the test wait for the next one.
 */
async function startAppCallback(): Promise<{ url: string; next(): Promise<URL>; close(): Promise<void> }> {
  const arrived: URL[] = [];
  const waiting: ((url: URL) => void)[] = [];
  const port = await freePort();
  const app = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
    // The browser also asks for a favicon; only the callback counts.
    if (url.pathname !== "/callback") return void res.writeHead(404).end();
    const waiter = waiting.shift();
    if (waiter === undefined) arrived.push(url);
    else waiter(url);
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>Notes</title><p>Back in Notes");
  });
  await new Promise<void>((resolve) => app.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}/callback`,
    next: () => {
      const url = arrived.shift();
      return url === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(url);
    },
    close: () => new Promise((resolve) => app.close(() => resolve())),
  };
}

describe.skipIf(!chromiumAvailable())("signing in to another app with Countersign (OpenID Connect)", () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "countersign-oidc-e2e-"));
    app = await startAppCallback();
    writeFileSync(path.join(dir, "clients.json"), JSON.stringify([{ ...CLIENT, redirect_uris: [app.url] }]));
    const port = await freePort();
    origin = `http://localhost:${port}`;
    server = await startServerProcess({
      port,
      env: { PUBLIC_ORIGIN: origin, OIDC_CLIENTS_FILE: path.join(dir, "clients.json") },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    server?.kill("SIGTERM");
    await server?.exited;
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(cspViolations).toEqual([]);
  });

  it("the app sends the browser here, the phone approves the QR, consent, and back in the app; next time no QR", async () => {
    const phone = await openPage(PHONE_CONTEXT);
    await phone.goto(`${origin}/approve/`);
    await phone.getByLabel("Username").fill("nora");
    await phone.getByLabel("Your name").fill("Nora");
    await phone.getByRole("button", { name: "Create passkey" }).click();
    await phone.getByText("Signed in as Nora").waitFor();

    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(authorizationUrl("first"));
    await desktop.getByRole("heading", { name: "Sign in to Notes" }).waitFor();
    await snapshot(desktop, "oidc-desktop-qr");
    await phone.goto(await decodeQr(desktop.getByRole("img", { name: /QR code/ })));
    await phone.getByRole("heading", { name: "Sign in to Notes on a computer?" }).waitFor();
    await snapshot(phone, "oidc-phone-review");
    await phone.getByRole("button", { name: "Approve" }).click();

    await desktop.getByRole("heading", { name: "Allow Notes to use your Countersign account?" }).waitFor();
    await desktop.getByText("See your username and your name").waitFor();
    await snapshot(desktop, "oidc-desktop-consent");
    await desktop.getByRole("button", { name: "Allow" }).click();
    const callback = await app.next();
    await desktop.getByText("Back in Notes").waitFor();
    expect(callback.searchParams.get("state")).toBe("first");
    expect(callback.searchParams.get("code")).toMatch(/^[\w-]{20,}$/);

    // The same browser, the same app: signed in and consented, so straight back.
    await desktop.goto(authorizationUrl("second"));
    const second = await app.next();
    await desktop.getByText("Back in Notes").waitFor();
    expect(second.searchParams.get("state")).toBe("second");
    expect(second.searchParams.get("code")).not.toBeNull();
  });
});
