import type { BrowserContext, CDPSession, Page, Worker } from "playwright-core";
import type { PushMessage } from "@countersign/shared";
import type { TestSubscription } from "./push-endpoint.js";

/** What the approver's service worker posts to its windows (approver/src/sw-messages.ts). */
export interface WorkerNote {
  type: string;
  change: "shown" | "closed" | "open";
  id?: string;
  tag?: string;
  url?: string;
}

/** A notification as the phone's tray holds it. */
export interface ShownNotification {
  title: string;
  body: string;
  tag: string;
  data: { url: string; id: string };
}

/**
 * Makes a phone context able to subscribe to Web Push in headless Chromium (DESIGN §8): the
 * notification permission granted, and `pushManager.subscribe()`, which never settles without a
 * push service, answering with the test's subscription at its own push endpoint (kept across
 * reloads, as a browser keeps it). Also records what the service worker tells the page.
 */
export async function preparePushPhone(options: {
  context: BrowserContext;
  origin: string;
  subscription: TestSubscription;
  /**
   * Starts the browser already subscribed, made for this server key (base64url): a subscription
   * from before the server's keys were replaced.
   */
  subscribedWithKey?: string;
}): Promise<void> {
  const { context, origin, subscription } = options;
  await context.grantPermissions(["notifications"], { origin });
  await context.addInitScript(`(() => {
    const json = ${JSON.stringify(subscription.json)};
    const KEY = "test-push-subscribed";
    const preset = ${JSON.stringify(options.subscribedWithKey ?? null)};
    if (preset !== null && sessionStorage.getItem("test-push-preset") === null) {
      sessionStorage.setItem("test-push-preset", "1");
      localStorage.setItem(KEY, preset);
    }
    const bytesOf = (text) => Uint8Array.from(atob(text.split("-").join("+").split("_").join("/")), (c) => c.charCodeAt(0));
    const textOf = (key) => btoa(String.fromCharCode(...new Uint8Array(key instanceof ArrayBuffer ? key : key.buffer))).split("+").join("-").split("/").join("_").replace(/=+$/, "");
    if (typeof PushManager !== "undefined") {
      // The key the subscription was made with is kept (as a browser does) and reported in options.
      const fake = (key) => ({
        endpoint: json.endpoint,
        expirationTime: null,
        options: { userVisibleOnly: true, applicationServerKey: key === "1" ? null : bytesOf(key).buffer },
        toJSON: () => json,
        unsubscribe: async () => { localStorage.removeItem(KEY); return true; },
      });
      PushManager.prototype.subscribe = async function (subscribeOptions) {
        const key = subscribeOptions?.applicationServerKey ? textOf(subscribeOptions.applicationServerKey) : "1";
        localStorage.setItem(KEY, key);
        return fake(key);
      };
      PushManager.prototype.getSubscription = async function () {
        const key = localStorage.getItem(KEY);
        return key ? fake(key) : null;
      };
    }
    window.__workerNotes = [];
    navigator.serviceWorker?.addEventListener("message", (event) => window.__workerNotes.push(event.data));
  })()`);
}

/** The server key the page's browser subscribed with (the stub's record of it), or null. */
export function subscribedKey(page: Page): Promise<string | null> {
  return page.evaluate<string | null>(`localStorage.getItem("test-push-subscribed")`);
}

/** Whether the page's browser still holds its push subscription (the stub's record of it). */
export function holdsSubscription(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(`localStorage.getItem("test-push-subscribed") !== null`);
}

/**
 * Delivers push messages to the approver's service worker as the push service would, through CDP
 * on a page session. The registration id comes from `workerRegistrationUpdated` (a wrong one fails
 * silently).
 */
export async function pushDelivery(options: {
  page: Page;
  origin: string;
}): Promise<{ deliver: (message: PushMessage) => Promise<void>; cdp: CDPSession }> {
  const { page, origin } = options;
  const cdp = await page.context().newCDPSession(page);
  const scope = `${origin}/approve/`;
  const registrationId = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const found = registrations.find((registration) => registration.scopeURL === scope && !registration.isDeleted);
      if (found !== undefined) resolve(found.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  const id = await registrationId;
  return {
    cdp,
    deliver: async (message) => {
      await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId: id, data: JSON.stringify(message) });
    },
  };
}

/** Waits until the service worker has told the page that this happened (it posts after the fact). */
export async function waitForWorkerNote(
  page: Page,
  expected: { change: "shown" | "closed"; id: string },
): Promise<WorkerNote> {
  const handle = await page.waitForFunction(
    ([change, id]) =>
      (globalThis as unknown as { __workerNotes: WorkerNote[] }).__workerNotes.find(
        (note) => note.change === change && note.id === id,
      ),
    [expected.change, expected.id] as const,
  );
  return (await handle.jsonValue()) as WorkerNote;
}

/** The tray's notifications with this tag: read once, after the worker said it is done. */
export function notificationsTagged(page: Page, tag: string): Promise<ShownNotification[]> {
  return page.evaluate<ShownNotification[]>(`(async () => {
    const registration = await navigator.serviceWorker.ready;
    const shown = await registration.getNotifications({ tag: ${JSON.stringify(tag)} });
    return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
  })()`);
}

/** The approver's service worker, as Playwright sees it. */
export async function approverWorker(context: BrowserContext, origin: string): Promise<Worker> {
  const url = `${origin}/approve/sw.js`;
  const found = context.serviceWorkers().find((worker) => worker.url() === url);
  return found ?? context.waitForEvent("serviceworker", { predicate: (worker) => worker.url() === url });
}

/**
 * Taps the notification with this tag. A real click cannot be made headless, so the worker gets
 * a `notificationclick` dispatched to it, with `clients.openWindow` replaced by a recorder that
 * `windowOpened` waits on. (waitUntil refuses a synthetic event; the handler's work has already
 * started by then, so it still runs to the end.)
 */
export async function tapNotification(worker: Worker, tag: string): Promise<void> {
  await worker.evaluate(`(async () => {
    self.__windowOpened = new Promise((resolve) => {
      self.clients.openWindow = async (url) => { resolve(url); return null; };
    });
    const [notification] = await self.registration.getNotifications({ tag: ${JSON.stringify(tag)} });
    if (notification === undefined) throw new Error("no notification to tap");
    self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
  })()`);
}

/** Resolves with the URL the worker opened a new window at, after a tap with no app window open. */
export function windowOpened(worker: Worker): Promise<string> {
  return worker.evaluate<string>("self.__windowOpened");
}
