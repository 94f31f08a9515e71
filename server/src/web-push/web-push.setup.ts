import type { Clock } from "../clock.js";
import type { WebPushConfig } from "../config.js";
import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import type { Store } from "../store/store.js";
import { createVapidKeySource } from "./web-push.keys.js";
import { notifyPhones, type NotifierLog, type WebPushNotifier } from "./web-push.notifier.js";
import { createWebPushService, type WebPushService } from "./web-push.service.js";

/**
 * Web Push for one process: the subscriptions phones manage, and the notifier that listens to
 * push requests and their ends. Both use one VAPID key pair, shared by every process.
 */
export function setUpWebPush(deps: {
  config: WebPushConfig;
  publicOrigin: string;
  store: Store;
  clock: Clock;
  /** Deployment.claimShared: where a generated key pair is kept for every process. */
  claimShared: (name: string, create: () => Promise<string>) => Promise<string>;
  loginEvents: LoginRequestEvents;
  log: NotifierLog;
  /** Hears how each notification send ended; omitted, nobody. */
  onSent?: (outcome: "delivered" | "gone" | "failed") => void;
}): { service: WebPushService; notifier: WebPushNotifier } {
  const { config, store, clock } = deps;
  const vapidKeys = createVapidKeySource({ configured: config.vapidKeys, claimShared: deps.claimShared });
  return {
    service: createWebPushService({ store, clock, vapidKeys, allowLoopback: config.loopbackEndpoints }),
    notifier: notifyPhones({
      store,
      clock,
      publicOrigin: deps.publicOrigin,
      config,
      vapidKeys,
      loginEvents: deps.loginEvents,
      log: deps.log,
      ...(deps.onSent === undefined ? {} : { onSent: deps.onSent }),
    }),
  };
}
