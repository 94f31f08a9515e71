import { Agent } from "node:https";
import type { PushMessage } from "@countersign/shared";
import webpush from "web-push";
import type { Clock } from "../clock.js";
import type { WebPushConfig } from "../config.js";
import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import { toLoginReview } from "../login-request/login-request.view.js";
import type { SessionRecord, Store } from "../store/store.js";
import { judgePushEndpoint } from "./web-push.endpoint.js";
import type { VapidKeys } from "./web-push.keys.js";
import { buildRequestMessage, buildResolvedMessage } from "./web-push.message.js";

/** A push service that does not answer within this is given up on; the phone still has its socket. */
const SEND_TIMEOUT_MS = 10_000;
/**
 * How long a push service keeps a "resolved" for a phone that is offline: long enough to close a
 * notification the phone showed before it lost its connection. It shares the request's Topic, so
 * it also replaces a request the push service has not delivered yet.
 */
const RESOLVED_TTL_SECONDS = 60 * 60;

/** What the notifier logs; pino's Logger is one. Never given an endpoint or keys (capabilities). */
export interface NotifierLog {
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export interface WebPushNotifier {
  /** Resolves once every send started so far has finished (shutdown waits for it). */
  idle(): Promise<void>;
}

type Outcome = "delivered" | "gone" | "failed" | "skipped";

/**
 * Notifications for phones whose app is closed (Web Push): a push request that reaches a person
 * (push-login/ announces it only then) goes to every signed-in phone of theirs with a
 * subscription, and when the request leaves pending or scanned for any reason, a "resolved" with
 * the same tag closes the notification on all of them. Events are in-process and each change is
 * published by the one process that made it, so each message is sent once per deployment.
 *
 * Sending never holds up the request that caused it and never fails it: each batch runs on its
 * own, and every failure is caught here. A push service that says a subscription is gone (404,
 * 410) has it removed from its session, unless the session has a newer one meanwhile.
 */
export function notifyPhones(deps: {
  store: Store;
  clock: Clock;
  publicOrigin: string;
  config: Pick<WebPushConfig, "subject" | "loopbackEndpoints">;
  vapidKeys: () => Promise<VapidKeys>;
  loginEvents: LoginRequestEvents;
  log: NotifierLog;
  /** Hears how each send ended (the metrics count them); omitted, nobody. */
  onSent?: (outcome: "delivered" | "gone" | "failed") => void;
}): WebPushNotifier {
  const { store, clock, log } = deps;
  const inFlight = new Set<Promise<void>>();
  let loopbackAgent: Agent | undefined;

  function inBackground(work: () => Promise<void>): void {
    // After this turn of the event loop: the answer to the request that caused it is written
    // first, so its timing says nothing about whether the person has phones to notify (the
    // encryption is synchronous CPU work).
    const running = new Promise<void>((resolve) => setImmediate(resolve)).then(work).catch((error: unknown) => {
      // A store failure while listing phones, say. Only the error's code: messages of network
      // errors can name the endpoint's host and path.
      log.warn({ code: codeOf(error) }, "could not send web push notifications");
    });
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
  }

  async function sendTo(options: {
    session: SessionRecord;
    message: PushMessage;
    ttlSeconds: number;
    keys: VapidKeys;
  }): Promise<Outcome> {
    const { session, message, keys } = options;
    const subscription = session.pushSubscription;
    if (subscription === null) return "skipped";
    // Checked again on the way out: the configuration may have changed since it was stored.
    const verdict = judgePushEndpoint({
      endpoint: subscription.endpoint,
      allowLoopback: deps.config.loopbackEndpoints,
    });
    if (!verdict.allowed) return "skipped";
    if (verdict.loopback) loopbackAgent ??= new Agent({ rejectUnauthorized: false });
    try {
      await webpush.sendNotification(
        { endpoint: subscription.endpoint, keys: subscription.keys },
        JSON.stringify(message),
        {
          vapidDetails: { subject: deps.config.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
          TTL: options.ttlSeconds,
          urgency: "high",
          // The same for a request and its resolution: a later message replaces an undelivered one.
          topic: message.tag,
          timeout: SEND_TIMEOUT_MS,
          // Only a development endpoint on this machine goes without a certificate check.
          ...(verdict.loopback && loopbackAgent !== undefined ? { agent: loopbackAgent } : {}),
        },
      );
      return "delivered";
    } catch (error) {
      if (error instanceof webpush.WebPushError && (error.statusCode === 404 || error.statusCode === 410)) {
        await store.setSessionPushSubscription({
          tokenHash: session.tokenHash,
          subscription: null,
          ifEndpoint: subscription.endpoint,
        });
        return "gone";
      }
      log.warn(
        {
          kind: message.kind,
          tag: message.tag,
          statusCode: error instanceof webpush.WebPushError ? error.statusCode : null,
          code: codeOf(error),
        },
        "a push service refused a web push notification",
      );
      return "failed";
    }
  }

  async function sendToPhones(options: {
    userId: string;
    message: PushMessage;
    ttlSeconds: number;
    /** False for a request held back: the phones are looked up all the same, and not sent to. */
    delivered: boolean;
  }): Promise<void> {
    const { message } = options;
    const now = clock.now();
    const sessions = await store.listSessions(options.userId);
    if (!options.delivered || options.ttlSeconds <= 0) return;
    const phones = sessions.filter(
      (session) => session.kind === "approver" && session.pushSubscription !== null && session.expiresAt > now,
    );
    const outcomes: Outcome[] = [];
    if (phones.length > 0) {
      const keys = await deps.vapidKeys();
      outcomes.push(...(await Promise.all(phones.map((session) => sendTo({ ...options, session, keys })))));
    }
    for (const outcome of outcomes) if (outcome !== "skipped") deps.onSent?.(outcome);
    const count = (outcome: Outcome): number => outcomes.filter((seen) => seen === outcome).length;
    log.debug(
      {
        kind: message.kind,
        tag: message.tag,
        phones: phones.length,
        delivered: count("delivered"),
        gone: count("gone"),
        failed: count("failed"),
      },
      "web push notifications sent",
    );
  }

  /**
   * One subscriber for a push request's start and end. It looks the person's phones up whether or
   * not the request reached them, and only then skips a request held back (paused, over a
   * limit): a held-back person's request costs the server the same store work as an unknown
   * name's (push-login/ keeps those alike), it just sends nothing.
   */
  deps.loginEvents.subscribe(({ before, after }) => {
    const push = after.push;
    if (push === null) return;
    const waiting = (status: string): boolean => status === "pending" || status === "scanned";
    if (before === null) {
      const ttlSeconds = Math.floor((after.expiresAt - clock.now()) / 1000);
      const message = buildRequestMessage({
        review: toLoginReview(after, { viewer: null }),
        publicOrigin: deps.publicOrigin,
      });
      inBackground(() => sendToPhones({ userId: push.userId, message, ttlSeconds, delivered: push.delivered }));
      return;
    }
    if (!waiting(before.status) || waiting(after.status)) return;
    inBackground(() =>
      sendToPhones({
        userId: push.userId,
        message: buildResolvedMessage(after.id),
        ttlSeconds: RESOLVED_TTL_SECONDS,
        delivered: push.delivered,
      }),
    );
  });

  return {
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function codeOf(error: unknown): string | null {
  if (error instanceof webpush.WebPushError) return "WEB_PUSH_ERROR";
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : error instanceof Error ? error.name : null;
}
