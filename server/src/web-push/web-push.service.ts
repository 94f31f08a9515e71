import type { PushSubscriptionBody } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { SessionRecord, Store } from "../store/store.js";
import { judgePushEndpoint } from "./web-push.endpoint.js";
import type { VapidKeys } from "./web-push.keys.js";

export interface WebPushService {
  /** The VAPID public key phones subscribe with (the same from every process). */
  publicKey(): Promise<string>;
  /**
   * Keeps the phone's subscription on its own session, replacing any it had, so whatever ends
   * the session (sign-out, revocation, its passkey removed) ends its notifications too. Refuses
   * an endpoint that is not a known push service (PUSH_SERVICE_REFUSED).
   */
  subscribe(options: { approver: SessionRecord; subscription: PushSubscriptionBody }): Promise<void>;
  /** Whether the server sends this phone's session notifications. */
  isSubscribed(approver: SessionRecord): boolean;
  /** Stops notifications to this phone's session; nothing happens if there were none. */
  unsubscribe(approver: SessionRecord): Promise<void>;
}

export function createWebPushService(deps: {
  store: Store;
  clock: Clock;
  vapidKeys: () => Promise<VapidKeys>;
  /** config.webPush.loopbackEndpoints: development endpoints on this machine are allowed. */
  allowLoopback: boolean;
}): WebPushService {
  const { store } = deps;

  async function setSubscription(
    approver: SessionRecord,
    subscription: SessionRecord["pushSubscription"],
  ): Promise<void> {
    const stored = await store.setSessionPushSubscription({ tokenHash: approver.tokenHash, subscription });
    // Ended between reading the cookie and now (signed out, revoked elsewhere): as if never signed in.
    if (stored === null) throw new AppError("UNAUTHENTICATED", "Sign in on this phone first.");
  }

  return {
    async publicKey() {
      return (await deps.vapidKeys()).publicKey;
    },

    async subscribe({ approver, subscription }) {
      const verdict = judgePushEndpoint({ endpoint: subscription.endpoint, allowLoopback: deps.allowLoopback });
      if (!verdict.allowed) {
        throw new AppError(
          "PUSH_SERVICE_REFUSED",
          `This push subscription cannot be used: its endpoint ${verdict.reason}.`,
        );
      }
      await setSubscription(approver, {
        endpoint: subscription.endpoint,
        keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth },
        createdAt: deps.clock.now(),
      });
    },

    isSubscribed(approver) {
      return approver.pushSubscription !== null;
    },

    async unsubscribe(approver) {
      if (approver.pushSubscription === null) return;
      await setSubscription(approver, null);
    },
  };
}
