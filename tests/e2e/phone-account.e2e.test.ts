import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
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
import { startPushEndpoint, type PushEndpoint } from "../src/support/push-endpoint.js";
import { preparePushPhone } from "../src/support/push-browser.js";
import { freePort, startServerProcess, type ServerProcess } from "../src/support/server-process.js";

let server: ServerProcess;
let endpoint: PushEndpoint;
/** localhost, not 127.0.0.1: a WebAuthn RP ID must be a domain name. */
let origin: string;
let browser: Browser;
let contexts: BrowserContext[] = [];

async function newPhone(options: { pushAs?: string } = {}): Promise<Page> {
  const context = await browser.newContext(PHONE_CONTEXT);
  contexts.push(context);
  if (options.pushAs !== undefined) {
    await preparePushPhone({ context, origin, subscription: endpoint.subscribe(options.pushAs) });
  }
  const page = await context.newPage();
  await addVirtualAuthenticator(context, page);
  return page;
}

async function enrol(phone: Page, username: string, displayName: string): Promise<void> {
  await phone.goto(`${origin}/approve/`);
  await phone.getByLabel("Username").fill(username);
  await phone.getByLabel("Your name").fill(displayName);
  await phone.getByRole("button", { name: "Create passkey" }).click();
  await phone.getByText(`Signed in as ${displayName}`).waitFor();
}

/** A second phone joins the account with the one-time code the first one shows. */
async function joinedSecondPhone(first: Page, displayName: string): Promise<Page> {
  await first.getByRole("button", { name: "Show a code for another phone" }).click();
  const link = await decodeQr(first.getByRole("img", { name: "QR code to add another phone to your account" }));
  const second = await newPhone();
  await second.goto(link);
  await second.getByRole("button", { name: "Create a passkey on this phone" }).click();
  await second.getByText(`Signed in as ${displayName}`).waitFor();
  return second;
}

function serverSendsTo(phone: Page): Promise<boolean> {
  return phone.evaluate<boolean>(
    `fetch(${JSON.stringify(API_PATHS.approverPushSubscription)}).then((r) => r.json()).then((b) => b.enabled)`,
  );
}

/** The list item marked "This phone" in a region, and the others. */
const thisPhoneIn = (phone: Page, region: string) =>
  phone.getByRole("region", { name: region }).getByRole("listitem").filter({ hasText: "This phone" });
const othersIn = (phone: Page, region: string) =>
  phone.getByRole("region", { name: region }).getByRole("listitem").filter({ hasNotText: "This phone" });

describe.skipIf(!chromiumAvailable())("the phone's account in a real browser", () => {
  beforeAll(async () => {
    endpoint = await startPushEndpoint();
    const port = await freePort();
    origin = `http://localhost:${port}`;
    server = await startServerProcess({ port, env: { PUBLIC_ORIGIN: origin, WEB_PUSH_DEV_LOOPBACK: "true" } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
    await server?.exited;
    await endpoint?.close();
  });

  beforeEach(() => {
    contexts = [];
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
  });

  it("a phone signed out by another phone signs in again with its passkey, and gets sign-in notifications again", async () => {
    const first = await newPhone({ pushAs: "ula" });
    await enrol(first, "ula", "Ula");
    await first
      .getByRole("region", { name: "Get sign-in requests even when this app is closed" })
      .getByRole("button", { name: "Turn on notifications" })
      .click();
    await first.getByRole("heading", { name: "Notifications are on" }).waitFor();
    const second = await joinedSecondPhone(first, "Ula");

    // From the second phone: signing the first one out asks first, and says what it loses.
    const otherPhone = othersIn(second, "Signed-in devices").filter({ hasText: "phone" });
    await otherPhone.getByText("notifications on").waitFor();
    await otherPhone.getByRole("button", { name: "Sign out" }).click();
    const confirm = otherPhone.getByRole("group", { name: /^Sign out .*\?$/ });
    await confirm.getByText("That phone stops getting sign-in requests").waitFor();
    await snapshot(second, "phone-confirm-sign-out-phone");
    await confirm.getByRole("button", { name: "Sign out that phone" }).click();
    await otherPhone.waitFor({ state: "detached" });

    // The first phone hears it live and is back at set-up; its username is taken (by itself).
    await first.getByRole("heading", { name: "Set up this phone" }).waitFor();
    await first.getByLabel("Username").fill("ula");
    await first.getByLabel("Your name").fill("Ula");
    await first.getByRole("button", { name: "Create passkey" }).click();
    const taken = first.getByRole("alert");
    await taken.getByText("This username is taken.").waitFor();
    await snapshot(first, "phone-username-taken");
    await taken.getByRole("button", { name: "I already use Countersign on this phone" }).click();
    await first.getByText("Signed in as Ula").waitFor();
    const thisPhone = thisPhoneIn(first, "Signed-in devices");
    await thisPhone.waitFor();

    // The browser kept its subscription; the new session gets it back without a question.
    await first
      .getByRole("region", { name: "Notifications" })
      .getByRole("button", { name: "Turn off notifications" })
      .waitFor();
    expect(await serverSendsTo(first)).toBe(true);
    const desktop = await (await browser.newContext(DESKTOP_CONTEXT)).newPage();
    contexts.push(desktop.context());
    await desktop.goto(origin);
    await desktop.getByLabel("Username").fill("ula");
    await desktop.getByRole("button", { name: "Send to my phone" }).click();
    await desktop.getByLabel(/^number \d\d$/).waitFor();
    const request = await endpoint.waitFor(
      "a request to the re-signed-in phone",
      (push) => push.phone === "ula" && push.message.kind === "request",
    );
    expect(request.status).toBe(201);
    await first.getByRole("article", { name: "Sign in on a computer?" }).waitFor();
  }, 90_000);

  it("removing a passkey asks first and names what stops working; removing this phone's signs it out", async () => {
    const first = await newPhone();
    await enrol(first, "vic", "Vic");
    const second = await joinedSecondPhone(first, "Vic");
    await first.reload();
    const passkeys = first.getByRole("region", { name: "Passkeys" });
    await passkeys.getByRole("listitem").nth(1).waitFor();
    expect(await passkeys.getByRole("listitem").count()).toBe(2);

    // Another phone's passkey: it ends the session it made. Keeping it changes nothing.
    const other = othersIn(first, "Passkeys");
    await other.getByRole("button", { name: /^Remove / }).click();
    const confirmOther = other.getByRole("group", { name: /^Remove the passkey / });
    await confirmOther.getByText("It ends 1 session it made: that device is signed out at once.").waitFor();
    expect(await confirmOther.getByText("This phone signs in with this passkey.").count()).toBe(0);
    await confirmOther.getByRole("button", { name: "Keep passkey" }).click();
    await confirmOther.waitFor({ state: "detached" });
    expect(await passkeys.getByRole("listitem").count()).toBe(2);
    await second.reload();
    await second.getByText("Signed in as Vic").waitFor();

    // This phone's own passkey: the confirmation says this phone is signed out by it.
    const own = thisPhoneIn(first, "Passkeys");
    await own.getByRole("button", { name: /^Remove / }).click();
    const confirmOwn = own.getByRole("group", { name: /^Remove the passkey / });
    await confirmOwn.getByText("This phone signs in with this passkey.").waitFor();
    await confirmOwn.getByText("Removing it signs this phone out").waitFor();
    // Only this phone signed in with it: no other device is named.
    expect(await confirmOwn.getByText(/other sessions? it made/).count()).toBe(0);
    await snapshot(first, "phone-confirm-remove-own-passkey");
    await confirmOwn.getByRole("button", { name: "Remove passkey" }).click();
    await first.getByRole("heading", { name: "Set up this phone" }).waitFor();

    // The other phone keeps working, with one passkey left: its own.
    await second.reload();
    const left = second.getByRole("region", { name: "Passkeys" }).getByRole("listitem");
    await left.filter({ hasText: "This phone" }).waitFor();
    expect(await left.count()).toBe(1);

    // Adding a passkey where this phone already holds one explains instead of failing.
    await second.getByRole("button", { name: "Add a passkey" }).click();
    await second.getByRole("alert").getByText("This phone already has a passkey for your account").waitFor();
  }, 90_000);
});
