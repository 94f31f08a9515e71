import {
  API_PATHS,
  type PushKeyResponse,
  type PushSubscriptionBody,
  type PushSubscriptionStatus,
} from "@countersign/shared";
import { callApi } from "./api-client.js";

/** Where this browser stands on notifications for this app. */
export type NotificationSupport = "unsupported" | NotificationPermission;

/** Why notifications could not be turned on; the UI words each. */
export class NotificationsError extends Error {
  constructor(
    readonly code: "UNSUPPORTED" | "BLOCKED" | "NOT_ALLOWED",
    options?: { cause?: unknown },
  ) {
    super(`Notifications could not be turned on: ${code}`, options);
    this.name = "NotificationsError";
  }
}

export function notificationSupport(): NotificationSupport {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return "unsupported";
  }
  return Notification.permission;
}

/** Whether the server sends this phone's session notifications. */
export async function readNotificationsEnabled(): Promise<boolean> {
  const status = await callApi<PushSubscriptionStatus>("GET", API_PATHS.approverPushSubscription);
  return status.enabled;
}

/**
 * Asks for permission (only ever from a tap that said why), subscribes with the server's key and
 * hands the subscription to the server for this phone's session.
 */
export async function turnOnNotifications(): Promise<void> {
  if (notificationSupport() === "unsupported") throw new NotificationsError("UNSUPPORTED");
  const permission = await Notification.requestPermission();
  if (permission === "denied") throw new NotificationsError("BLOCKED");
  if (permission !== "granted") throw new NotificationsError("NOT_ALLOWED");
  const { publicKey } = await callApi<PushKeyResponse>("GET", API_PATHS.approverPushKey);
  const registration = await navigator.serviceWorker.ready;
  const key = base64UrlBytes(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made for another server key (the server's keys were replaced) is useless.
  if (subscription !== null && !sameKey(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await sendSubscription(subscription);
}

/** The server forgets this phone's subscription first, so nothing is sent to it once it is off. */
export async function turnOffNotifications(): Promise<void> {
  await callApi("DELETE", API_PATHS.approverPushSubscription);
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  await subscription?.unsubscribe();
}

/**
 * After a sign-in, and whenever the app opens: a new session starts without a subscription, so a
 * phone that already allowed notifications hands its subscription to the server again, silently.
 * Resolves with whether the server now sends to this phone.
 */
export async function restoreNotifications(): Promise<boolean> {
  if (notificationSupport() !== "granted") return readNotificationsEnabled();
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  if (registration === undefined || subscription == null) return readNotificationsEnabled();
  const { publicKey } = await callApi<PushKeyResponse>("GET", API_PATHS.approverPushKey);
  const key = base64UrlBytes(publicKey);
  if (!sameKey(subscription.options.applicationServerKey, key)) {
    // The server's keys were replaced: push services refuse what the new key signs for the old
    // subscription, so make a new one (permission was given already: no prompt).
    await subscription.unsubscribe();
    const renewed = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    await sendSubscription(renewed);
    return true;
  }
  if (await readNotificationsEnabled()) return true;
  await sendSubscription(subscription);
  return true;
}

async function sendSubscription(subscription: PushSubscription): Promise<void> {
  const body = subscription.toJSON() as PushSubscriptionBody;
  await callApi("PUT", API_PATHS.approverPushSubscription, {
    endpoint: body.endpoint,
    expirationTime: body.expirationTime ?? null,
    keys: body.keys,
  });
}

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(
    text
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(text.length / 4) * 4, "="),
  );
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function sameKey(current: ArrayBuffer | null, wanted: Uint8Array): boolean {
  // A browser that does not report the key: trust the subscription rather than churn it.
  if (current === null) return true;
  const bytes = new Uint8Array(current);
  return bytes.length === wanted.length && bytes.every((byte, index) => byte === wanted[index]);
}
