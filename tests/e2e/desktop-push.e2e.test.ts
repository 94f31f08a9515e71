import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { PUSH_NO_ANSWER_HINT_MS } from "@countersign/shared";
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
 * The desktop page while a push sign-in waits (issue 13, part 5): it can be cancelled or swapped
 * for a QR code, leaving the page takes the request's card off the phone, and a hint comes after a
 * while without an answer, the same whether or not the username exists.
 */

const HINT = "No answer yet? Check your phone's notifications, or use the QR code instead.";

let server: ServerProcess;
/** localhost, not 127.0.0.1: a WebAuthn RP ID must be a domain name. */
let origin: string;
let browser: Browser;
let contexts: BrowserContext[] = [];
let cspViolations: string[] = [];

/**
 * A page in a fresh context. `fakeTimers` installs Playwright's clock in it before anything runs:
 * time still flows as usual, but the test can jump it ahead (clock.fastForward) to see what the
 * page does after PUSH_NO_ANSWER_HINT_MS without waiting that long, and without the page needing
 * a test-only setting for the delay.
 */
async function openPage(
  options: BrowserContextOptions,
  extras: { authenticator?: boolean; fakeTimers?: boolean } = {},
): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  if (extras.fakeTimers === true) await context.clock.install();
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  if (extras.authenticator === true) await addVirtualAuthenticator(context, page);
  return page;
}

async function enrolledPhone(username: string, displayName: string): Promise<Page> {
  const phone = await openPage(PHONE_CONTEXT, { authenticator: true });
  await phone.goto(`${origin}/approve/`);
  await phone.getByLabel("Username").fill(username);
  await phone.getByLabel("Your name").fill(displayName);
  await phone.getByRole("button", { name: "Create passkey" }).click();
  await phone.getByText(`Signed in as ${displayName}`).waitFor();
  return phone;
}

/** The push's card in the phone's inbox (any push: each test's phone gets only its own). */
const cardOn = (phone: Page) => phone.getByRole("article", { name: "Sign in on a computer?" });

/** Sends a push from the start screen and waits for the number to pick; returns that number. */
async function sendPush(desktop: Page, username: string): Promise<string> {
  await desktop.getByLabel("Username").fill(username);
  await desktop.getByRole("button", { name: "Send to my phone" }).click();
  await desktop.getByRole("heading", { name: "Check your phone" }).waitFor();
  return (await desktop.getByLabel(/^number \d\d$/).innerText()).trim();
}

/** The id of the element that has the focus (evaluated in the page, where document exists). */
const focusedId = (page: Page): Promise<string> => page.evaluate<string>("document.activeElement?.id ?? ''");

describe.skipIf(!chromiumAvailable())("the desktop while a push sign-in waits, in a real browser", () => {
  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    server = await startServerProcess({ port, env: { PUBLIC_ORIGIN: origin } });
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

  it("Cancel takes the card off the phone and brings the desktop back to the start", async () => {
    const phone = await enrolledPhone("lu", "Lu");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    const number = await sendPush(desktop, "lu");
    expect(await focusedId(desktop)).toBe("push-waiting-title");
    const card = cardOn(phone);
    await card.waitFor();
    await card.getByRole("button", { name: number, exact: true }).waitFor();
    await snapshot(desktop, "desktop-push-waiting");

    await desktop.getByRole("button", { name: "Cancel", exact: true }).click();
    await card.waitFor({ state: "detached" });
    // The start again: a fresh QR request and the username form, the old number gone.
    await desktop.getByRole("img", { name: /QR code/ }).waitFor();
    await desktop.getByRole("button", { name: "Send to my phone" }).waitFor();
    expect(await desktop.getByLabel(/^number \d\d$/).count()).toBe(0);
    expect(await focusedId(desktop)).toBe("page-title");
  });

  it("'Use the QR code instead' takes the card off the phone, and the QR it shows signs in", async () => {
    const phone = await enrolledPhone("mai", "Mai");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    await sendPush(desktop, "mai");
    const card = cardOn(phone);
    await card.waitFor();

    await desktop.getByRole("button", { name: "Use the QR code instead" }).click();
    await card.waitFor({ state: "detached" });
    const qr = desktop.getByRole("img", { name: /QR code/ });
    await qr.waitFor();
    await desktop.getByRole("heading", { name: "Sign in with your phone" }).waitFor();
    expect(await focusedId(desktop)).toBe("sign-in-title");
    await snapshot(desktop, "desktop-push-switched-to-qr");

    await phone.goto(await decodeQr(qr));
    await phone.getByRole("button", { name: "Approve" }).click();
    await desktop.getByRole("heading", { name: "Signed in as Mai" }).waitFor();
  });

  it("leaving the page takes the card off the phone", async () => {
    const phone = await enrolledPhone("ned", "Ned");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    await sendPush(desktop, "ned");
    const card = cardOn(phone);
    await card.waitFor();

    // Nothing of this app runs on the next page: only the cancel sent as the page went can do it.
    await desktop.goto("about:blank");
    await card.waitFor({ state: "detached" });
  });

  it("reloading takes the card off the phone, and a reload whose cancel was lost cancels it on load", async () => {
    const phone = await enrolledPhone("ola", "Ola");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    await sendPush(desktop, "ola");
    const card = cardOn(phone);
    await card.waitFor();
    await desktop.reload();
    await card.waitFor({ state: "detached" });
    await desktop.getByRole("img", { name: /QR code/ }).waitFor();

    // Now the cancel sent while leaving is lost (a dropped connection, a crashed tab): here the
    // page's keepalive requests, which only leaving sends, go nowhere. Only the page that loads
    // next in the tab can cancel the push.
    await sendPush(desktop, "ola");
    await card.waitFor();
    await desktop.evaluate(
      "(() => { const send = window.fetch; window.fetch = (input, init) => init?.keepalive ? new Promise(() => {}) : send(input, init); })()",
    );
    await desktop.goto("about:blank");
    expect(await card.count()).toBe(1);
    await desktop.goto(origin);
    await card.waitFor({ state: "detached" });
    await desktop.getByRole("img", { name: /QR code/ }).waitFor();
  });

  it("hints at notifications or the QR code after a while, for an unknown username exactly as for a known one", async () => {
    const phone = await enrolledPhone("pia", "Pia");
    const desktop = await openPage(DESKTOP_CONTEXT, { fakeTimers: true });
    await desktop.goto(origin);
    const hint = desktop.getByText(HINT);

    /** What the waiting screen says once the hint is due, with the name and number taken out. */
    async function waitingScreenAfterTheDelay(username: string): Promise<string> {
      const number = await sendPush(desktop, username);
      // Short of the mark by more than the real time this test takes meanwhile (the clock still flows).
      await desktop.clock.fastForward(PUSH_NO_ANSWER_HINT_MS - 5_000);
      expect(await hint.count(), `no hint before it is due (${username})`).toBe(0);
      await desktop.clock.fastForward(5_000);
      await hint.waitFor();
      const text = await desktop.getByRole("region", { name: "Check your phone" }).innerText();
      return text.replaceAll(username, "<username>").replaceAll(number, "<number>");
    }

    const known = await waitingScreenAfterTheDelay("pia");
    // The known name's request did reach the phone, unanswered: the hint is about the wait alone.
    await cardOn(phone).waitFor();
    await snapshot(desktop, "desktop-push-no-answer-hint");
    await desktop.getByRole("button", { name: "Cancel", exact: true }).click();
    await cardOn(phone).waitFor({ state: "detached" });

    const unknown = await waitingScreenAfterTheDelay("nobody-by-this-name");
    expect(unknown).toBe(known);
    expect(known).toContain(HINT);
  });
});
