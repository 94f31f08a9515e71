import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AuditEvent, SignInMethod } from "./audit-trail.js";

/** How a sign-in ended, as counted: a decision, an ending, or the session it became. */
export type SignInOutcome = "approved" | "denied" | "expired" | "cancelled" | "superseded" | "redeemed";

/** What happened to one notification: a socket broadcast or one web push send. */
export type PushDeliveryOutcome = "delivered" | "gone" | "failed";

/**
 * The app's Prometheus metrics, in a registry of its own: tests run several apps in one process,
 * and prom-client's global registry would mix them. Labels are route patterns, enums and
 * operation names only, never anything a client sent (ids are in paths; names are secrets).
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  signIns: Counter<"method" | "outcome">;
  approvalToDesktop: Histogram;
  storeDuration: Histogram<"operation">;
  storeErrors: Counter<"operation">;
  rateLimited: Counter<"action">;
  pushDeliveries: Counter<"channel" | "outcome">;
  /** Counts what the audit trail hears that is also a metric. */
  countAuditEvent(event: AuditEvent): void;
}

/** Fast operations: a memory store answers in microseconds, Redis in about a millisecond. */
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: { openSockets: () => number }): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "countersign_open_sockets",
    help: "Socket.IO connections open on this process.",
    registers,
    collect() {
      this.set(options.openSockets());
    },
  });
  const signIns = new Counter({
    name: "countersign_sign_ins_total",
    help: "Sign-ins by method (qr, push, passkey, device, ciba) and outcome; a redeemed one became a session.",
    labelNames: ["method", "outcome"] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: "countersign_rate_limited_total",
    help: "Attempts refused by a rate limit, by the limit's action.",
    labelNames: ["action"] as const,
    registers,
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: "countersign_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status: from the first middleware to the answer's end.",
      labelNames: ["method", "route", "status"] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    signIns,
    approvalToDesktop: new Histogram({
      name: "countersign_approval_to_desktop_seconds",
      help: "From an approval's write to its broadcast to the desktop's room, in this process.",
      buckets: FAST_BUCKETS,
      registers,
    }),
    storeDuration: new Histogram({
      name: "countersign_store_operation_duration_seconds",
      help: "Store operations by name, failed ones included.",
      labelNames: ["operation"] as const,
      buckets: FAST_BUCKETS,
      registers,
    }),
    storeErrors: new Counter({
      name: "countersign_store_errors_total",
      help: "Store operations that failed (Redis unreachable or timed out, a bug), by name.",
      labelNames: ["operation"] as const,
      registers,
    }),
    rateLimited,
    pushDeliveries: new Counter({
      name: "countersign_push_deliveries_total",
      help:
        "Notifications by channel and outcome: socket (a push request broadcast to the person's room) and " +
        "web_push (one send to a phone's push service: delivered, gone, failed).",
      labelNames: ["channel", "outcome"] as const,
      registers,
    }),
    countAuditEvent(event) {
      if (event.event === "rate_limited") rateLimited.inc({ action: event.action });
      // Other sign-ins are counted from their login request; a passkey alone has none.
      if (event.event === "sign_in.passkey" && event.kind === "desktop") {
        signIns.inc({ method: "passkey" satisfies SignInMethod, outcome: "redeemed" satisfies SignInOutcome });
      }
    },
  };
}
