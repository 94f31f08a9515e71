import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { API_PATHS, type PushMessage } from "@countersign/shared";
import {
  addVirtualAuthenticator,
  chromiumAvailable,
  DESKTOP_CONTEXT,
  launchChromium,
  PHONE_CONTEXT,
  snapshot,
} from "../src/support/browser.js";
import { startPushEndpoint, type PushEndpoint, type ReceivedPush } from "../src/support/push-endpoint.js";
import {
  approverWorker,
  notificationsTagged,
  preparePushPhone,
  subscribedKey,
  pushDelivery,
  tapNotification,
  waitForWorkerNote,
  windowOpened,
} from "../src/support/push-browser.js";
import { freePort, startServerProcess, type ServerProcess } from "../src/support/server-process.js";

let server: ServerProcess;
let endpoint: PushEndpoint;
/** localhost, not 127.0.0.1: a WebAuthn RP ID must be a domain name. */
let origin: string;
let browser: Browser;
let contexts: BrowserContext[] = [];

async function newContext(options: typeof PHONE_CONTEXT | typeof DESKTOP_CONTEXT): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  contexts.push(context);
  return context;
}

/** A phone whose browser can subscribe at the test's push endpoint, enrolled as `username`. */
async function enrolledPushPhone(username: string, displayName: string): Promise<Page> {
  const context = await newContext(PHONE_CONTEXT);
  await preparePushPhone({ context, origin, subscription: endpoint.subscribe(username) });
  const phone = await context.newPage();
  await addVirtualAuthenticator(context, phone);
  await phone.goto(`${origin}/approve/`);
  await phone.getByLabel("Username").fill(username);
  await phone.getByLabel("Your name").fill(displayName);
  await phone.getByRole("button", { name: "Create passkey" }).click();
  await phone.getByText(`Signed in as ${displayName}`).waitFor();
  return phone;
}

/** What the server says about this phone's notifications, asked with the phone's own cookie. */
function serverSendsTo(phone: Page): Promise<boolean> {
  return phone.evaluate<boolean>(
    `fetch(${JSON.stringify(API_PATHS.approverPushSubscription)}).then((r) => r.json()).then((b) => b.enabled)`,
  );
}

/** A desktop page that asks `username`'s phones to approve; resolves with the number it shows. */
async function sendToPhone(username: string): Promise<{ desktop: Page; number: string }> {
  const desktop = await (await newContext(DESKTOP_CONTEXT)).newPage();
  await desktop.goto(origin);
  await desktop.getByLabel("Username").fill(username);
  await desktop.getByRole("button", { name: "Send to my phone" }).click();
  const number = (await desktop.getByLabel(/^number \d\d$/).innerText()).trim();
  return { desktop, number };
}

const isRequestFor =
  (phone: string) =>
  (push: ReceivedPush): boolean =>
    push.phone === phone && push.message.kind === "request";

function requestOf(push: ReceivedPush): Extract<PushMessage, { kind: "request" }> {
  if (push.message.kind !== "request") throw new Error(`expected a request push, got ${push.message.kind}`);
  return push.message;
}

describe.skipIf(!chromiumAvailable())("phone notifications in a real browser (Web Push)", () => {
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

  it("renews a subscription made for a replaced server key, without asking, when the phone signs in", async () => {
    // Any other valid P-256 point: the key a subscription was made with before a key rotation.
    const oldKey = endpoint.subscribe("old-key").json.keys.p256dh;
    const context = await newContext(PHONE_CONTEXT);
    await preparePushPhone({ context, origin, subscription: endpoint.subscribe("rua"), subscribedWithKey: oldKey });
    const phone = await context.newPage();
    await addVirtualAuthenticator(context, phone);
    await phone.goto(`${origin}/approve/`);
    expect(await subscribedKey(phone)).toBe(oldKey);
    await phone.getByLabel("Username").fill("rua");
    await phone.getByLabel("Your name").fill("Rua");
    await phone.getByRole("button", { name: "Create passkey" }).click();
    await phone.getByText("Signed in as Rua").waitFor();
    const settings = phone.getByRole("region", { name: "Notifications" });
    await settings.getByRole("button", { name: "Turn off notifications" }).waitFor();
    const { publicKey } = await phone.evaluate<{ publicKey: string }>(
      `fetch(${JSON.stringify(API_PATHS.approverPushKey)}).then((r) => r.json())`,
    );
    expect(await subscribedKey(phone)).toBe(publicKey);
    expect(await serverSendsTo(phone)).toBe(true);
    // And the server's sends reach it.
    await sendToPhone("rua");
    await endpoint.waitFor("rua's request", isRequestFor("rua"));
  });

  it("offers notifications after enrolment, never before, and the tap subscribes this phone", async () => {
    const context = await newContext(PHONE_CONTEXT);
    await preparePushPhone({ context, origin, subscription: endpoint.subscribe("nia") });
    const phone = await context.newPage();
    await addVirtualAuthenticator(context, phone);
    // No permission prompt on page load: counted in the page, where the app would call it.
    await context.addInitScript(`(() => {
      window.__permissionAsks = 0;
      const ask = Notification.requestPermission.bind(Notification);
      Notification.requestPermission = (...args) => { window.__permissionAsks += 1; return ask(...args); };
    })()`);
    await phone.goto(`${origin}/approve/`);
    await phone.getByLabel("Username").fill("nia");
    await phone.getByLabel("Your name").fill("Nia");
    await phone.getByRole("button", { name: "Create passkey" }).click();
    await phone.getByText("Signed in as Nia").waitFor();
    expect(await phone.evaluate<number>("window.__permissionAsks")).toBe(0);

    const offer = phone.getByRole("region", { name: "Get sign-in requests even when this app is closed" });
    await offer.waitFor();
    await snapshot(phone, "phone-notifications-offer");
    expect(await serverSendsTo(phone)).toBe(false);
    await offer.getByRole("button", { name: "Turn on notifications" }).click();
    await phone.getByRole("heading", { name: "Notifications are on" }).waitFor();
    expect(await phone.evaluate<number>("window.__permissionAsks")).toBe(1);
    expect(await serverSendsTo(phone)).toBe(true);
    const settings = phone.getByRole("region", { name: "Notifications" });
    await settings.getByText("On: sign-in requests reach you even when this app is closed.").waitFor();

    // Opening the app again asks nothing and offers nothing: it is on.
    await phone.reload();
    await phone.getByText("Signed in as Nia").waitFor();
    await settings.getByRole("button", { name: "Turn off notifications" }).waitFor();
    expect(await offer.count()).toBe(0);
    expect(await phone.evaluate<number>("window.__permissionAsks")).toBe(0);

    // Off: the server stops sending before the browser drops the subscription.
    await settings.getByRole("button", { name: "Turn off notifications" }).click();
    await settings.getByRole("button", { name: "Turn on notifications" }).waitFor();
    expect(await serverSendsTo(phone)).toBe(false);
  });

  it("a push sign-in rings the phone: tapping opens the request, approving closes it, and a report pauses pushes and signs computers out", async () => {
    const phone = await enrolledPushPhone("ona", "Ona");
    await phone
      .getByRole("region", { name: "Get sign-in requests even when this app is closed" })
      .getByRole("button", { name: "Turn on notifications" })
      .click();
    await phone.getByRole("heading", { name: "Notifications are on" }).waitFor();
    const push = await pushDelivery({ page: phone, origin });

    // 1. The server's real push reaches the push service; delivered, the worker shows it.
    const first = await sendToPhone("ona");
    const sent = requestOf(await endpoint.waitFor("Ona's first request", isRequestFor("ona")));
    expect(sent.url).toBe(`${origin}/approve/#/push/${sent.id}`);
    await push.deliver(sent);
    await waitForWorkerNote(phone, { change: "shown", id: sent.id });
    const [shown, ...others] = await notificationsTagged(phone, sent.tag);
    expect(others).toEqual([]);
    expect(shown).toMatchObject({ title: sent.title, body: sent.body, data: { url: sent.url, id: sent.id } });
    expect(shown?.title).toBe("Sign-in request");
    expect(shown?.body).toMatch(/ on Linux/);

    // 2. Approved in the app: the server pushes the resolution, and the worker closes the notification.
    const card = phone.getByRole("article", { name: "Sign in on a computer?" });
    await card.getByRole("button", { name: first.number, exact: true }).click();
    await card.getByRole("button", { name: "Approve" }).click();
    await first.desktop.getByRole("heading", { name: "Signed in as Ona" }).waitFor();
    const resolved = await endpoint.waitFor(
      "the first request's resolution",
      (received) => received.phone === "ona" && received.message.kind === "resolved" && received.message.id === sent.id,
    );
    expect(resolved.message.tag).toBe(sent.tag);
    await push.deliver(resolved.message);
    await waitForWorkerNote(phone, { change: "closed", id: sent.id });
    expect(await notificationsTagged(phone, sent.tag)).toEqual([]);

    // 3. A second request, from another computer: tapping its notification opens it in the app,
    // first and focused.
    const second = await sendToPhone("ona");
    const next = requestOf(
      await endpoint.waitFor(
        "Ona's second request",
        (received) => isRequestFor("ona")(received) && received.message.id !== sent.id,
      ),
    );
    await push.deliver(next);
    await waitForWorkerNote(phone, { change: "shown", id: next.id });
    await phone.goto(`${origin}/approve/`);
    await phone.getByText("Signed in as Ona").waitFor();
    await tapNotification(await approverWorker(phone.context(), origin), next.tag);
    await phone.waitForURL(next.url);
    await phone.waitForFunction(
      (id) =>
        (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id ===
        `push-title-${id}`,
      next.id,
    );
    expect(await notificationsTagged(phone, next.tag)).toEqual([]);
    await snapshot(phone, "phone-opened-from-notification");

    // 4. "This wasn't me": reported, pushes paused, and every computer signed out on request.
    await phone
      .getByRole("article", { name: "Sign in on a computer?" })
      .getByRole("button", { name: "This wasn't me" })
      .click();
    const reported = phone.getByRole("region", { name: "Reported" });
    await reported.getByText("Denied. Nobody was signed in.").waitFor();
    await reported.getByText(/Sign-in requests to your phones are paused for \d+ minutes/).waitFor();
    await snapshot(phone, "phone-reported");
    await second.desktop
      .getByText(/Denied on your phone|denied/i)
      .first()
      .waitFor();
    await reported.getByRole("button", { name: "Sign out every computer" }).click();
    const confirm = reported.getByRole("group", { name: "Sign out every computer?" });
    await confirm.getByRole("button", { name: "Sign out every computer" }).click();
    await reported.getByText("Signed out 1 computer.").waitFor();
    // The computer the first request signed in returns to the sign-in screen, live.
    await first.desktop.getByRole("img", { name: /QR code/ }).waitFor();
    await reported.getByRole("button", { name: "Done" }).click();
    await reported.waitFor({ state: "detached" });
  }, 90_000);

  it("with no app window open, tapping a notification opens the app at the request", async () => {
    const phone = await enrolledPushPhone("pia", "Pia");
    await phone
      .getByRole("region", { name: "Get sign-in requests even when this app is closed" })
      .getByRole("button", { name: "Turn on notifications" })
      .click();
    await phone.getByRole("heading", { name: "Notifications are on" }).waitFor();
    // Away from the app: the page left for the desktop site, outside the app's scope.
    await phone.goto(`${origin}/`);
    const push = await pushDelivery({ page: phone, origin });
    await sendToPhone("pia");
    const sent = requestOf(await endpoint.waitFor("Pia's request", isRequestFor("pia")));
    await push.deliver(sent);
    // The worker tells every window of the origin, this one too, though it is not the app's.
    await waitForWorkerNote(phone, { change: "shown", id: sent.id });
    const worker = await approverWorker(phone.context(), origin);
    await tapNotification(worker, sent.tag);
    expect(await windowOpened(worker)).toBe(sent.url);
  }, 60_000);
});
