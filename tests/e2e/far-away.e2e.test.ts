import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { ADDRESSES } from "@countersign/server/testing";
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

/*
 * The relay a changing QR cannot stop on its own: someone forwards a live QR to a victim far
 * away. The desktop and the phone reach the server through a proxy on this machine's loopback
 * (TRUST_PROXY=loopback), which says where each one is with X-Forwarded-For: the computer in
 * Sydney, the phone in Stockholm (real addresses, placed by the shipped database).
 */

let server: ServerProcess;
let origin: string;
let browser: Browser;
let contexts: BrowserContext[] = [];
let cspViolations: string[] = [];

async function openPage(options: BrowserContextOptions, extras: { authenticator?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  if (extras.authenticator === true) await addVirtualAuthenticator(context, page);
  return page;
}

const at = (address: string) => ({ extraHTTPHeaders: { "x-forwarded-for": address } });

async function enrolledPhoneIn(address: string, username: string, displayName: string): Promise<Page> {
  const phone = await openPage({ ...PHONE_CONTEXT, ...at(address) }, { authenticator: true });
  await phone.goto(`${origin}/approve/`);
  await phone.getByLabel("Username").fill(username);
  await phone.getByLabel("Your name").fill(displayName);
  await phone.getByRole("button", { name: "Create passkey" }).click();
  await phone.getByText(`Signed in as ${displayName}`).waitFor();
  return phone;
}

/** A desktop in Sydney whose QR code the Stockholm phone has opened. */
async function farAwayReview(phone: Page): Promise<Page> {
  const desktop = await openPage({ ...DESKTOP_CONTEXT, ...at(ADDRESSES.sydney) });
  await desktop.goto(origin);
  await phone.goto(await decodeQr(desktop.getByRole("img", { name: /QR code/ })));
  await phone.getByRole("heading", { name: "Someone may be trying to trick you" }).waitFor();
  return desktop;
}

describe.skipIf(!chromiumAvailable())("a sign-in from far away, in a real browser", () => {
  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    server = await startServerProcess({ port, env: { PUBLIC_ORIGIN: origin, TRUST_PROXY: "loopback" } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
    await server?.exited;
  });

  beforeEach(() => {
    contexts = [];
    cspViolations = [];
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    expect(cspViolations).toEqual([]);
  });

  it("stops the phone loudly, names the site, and approves only with the digits the computer shows", async () => {
    const phone = await enrolledPhoneIn(ADDRESSES.stockholm, "fay", "Fay");
    const desktop = await farAwayReview(phone);
    // Who asks and for which account, before anything else.
    await phone.getByText(new URL(origin).host, { exact: true }).waitFor();
    await phone.getByText("Fay (fay)").waitFor();
    await phone
      .getByText(/near Sydney, Australia/)
      .first()
      .waitFor();
    // No one-tap approval on this screen: only the report, or the digits first.
    expect(await phone.getByRole("button", { name: "Approve", exact: true }).count()).toBe(0);
    const approveAnyway = phone.getByRole("button", { name: "Approve anyway" });
    expect(await approveAnyway.isDisabled()).toBe(true);
    await snapshot(phone, "phone-far-away");

    const digits = desktop.getByLabel(/^digits \d\d$/);
    await digits.waitFor();
    await snapshot(desktop, "desktop-far-away-digits");
    await phone.getByLabel(/type the two digits it shows/).fill((await digits.innerText()).trim());
    await approveAnyway.click();
    await phone.getByText(/Approved for Fay/).waitFor();
    await desktop.getByRole("heading", { name: "Signed in as Fay" }).waitFor();
  });

  it("'Deny and report' from the warning denies it as 'This wasn't me'", async () => {
    const phone = await enrolledPhoneIn(ADDRESSES.stockholm, "gus", "Gus");
    const desktop = await farAwayReview(phone);
    await phone.getByRole("button", { name: "Deny and report" }).click();
    await phone.getByText("Denied. Nobody was signed in.").waitFor();
    await desktop.getByText(/Denied on your phone/).waitFor();
    // No dead end: Done leads back to Home.
    await phone.getByRole("button", { name: "Done" }).click();
    await phone.getByText("Signed in as Gus").waitFor();
  });

  it("shows a nearby computer's review without the warning", async () => {
    const phone = await enrolledPhoneIn(ADDRESSES.stockholm, "hal", "Hal");
    const desktop = await openPage({ ...DESKTOP_CONTEXT, ...at(ADDRESSES.stockholmSameNetwork) });
    await desktop.goto(origin);
    await phone.goto(await decodeQr(desktop.getByRole("img", { name: /QR code/ })));
    await phone.getByRole("button", { name: "Approve", exact: true }).waitFor();
    expect(await phone.getByRole("heading", { name: "Someone may be trying to trick you" }).count()).toBe(0);
  });
});
