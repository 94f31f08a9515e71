import { z } from "zod";
import { base64url } from "./webauthn.schemas.js";

/**
 * A phone's push subscription (W3C Push API `PushSubscription.toJSON()`), sent by the approver
 * when the person turns notifications on. The endpoint is where the server will send, so it is
 * checked again on the server against the push services it trusts (request forgery).
 */
export const pushSubscriptionBodySchema = z
  .object({
    endpoint: z.string().max(2048).url().startsWith("https://", "expects an https:// push service URL"),
    expirationTime: z.number().nullable().optional(),
    keys: z
      .object({
        /** The browser's P-256 public key: 65 bytes. */
        // 65 bytes are 87 characters; 86 would be 64 bytes, which encryption refuses.
        p256dh: base64url({ max: 88 }).regex(/^[A-Za-z0-9_-]{87}$/, "expects a 65-byte P-256 key"),
        /** The auth secret: 16 bytes. */
        auth: base64url({ max: 24 }).regex(/^[A-Za-z0-9_-]{22}={0,2}$/, "expects a 16-byte auth secret"),
      })
      .strict(),
  })
  .strict();
export type PushSubscriptionBody = z.infer<typeof pushSubscriptionBodySchema>;

/** The server's VAPID public key, the `applicationServerKey` a phone subscribes with. */
export const pushKeyResponseSchema = z.object({ publicKey: z.string() });
export type PushKeyResponse = z.infer<typeof pushKeyResponseSchema>;

/** Whether this phone's session has a subscription the server sends to. */
export const pushSubscriptionStatusSchema = z.object({ enabled: z.boolean() });
export type PushSubscriptionStatus = z.infer<typeof pushSubscriptionStatusSchema>;

/**
 * What a push message carries to the approver's service worker (approver/public/sw.js reads it
 * without this package, so keep the two in step). Nothing secret: no number to pick, no token,
 * nothing that approves. `tag` is the same for a request and its resolution, so the resolution
 * replaces (closes) the request's notification on every phone.
 */
export type PushMessage =
  | {
      v: 1;
      kind: "request";
      /** The login request's id. */
      id: string;
      tag: string;
      title: string;
      body: string;
      /** Where tapping the notification leads: the approver at this request. */
      url: string;
      expiresAt: number;
    }
  | { v: 1; kind: "resolved"; id: string; tag: string };
