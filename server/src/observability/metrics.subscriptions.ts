import type { EventChannel } from "../events/event-channel.js";
import type { LoginRequestChanged, LoginRequestEvents } from "../login-request/login-request.events.js";
import type { PushRequested } from "../push-login/push-login.service.js";
import { signInMethodOf } from "./audit.subscriptions.js";
import type { Metrics, SignInOutcome } from "./metrics.js";

const COUNTED: ReadonlySet<string> = new Set<SignInOutcome>([
  "approved",
  "denied",
  "expired",
  "cancelled",
  "superseded",
  "redeemed",
]);

/** Sign-ins by method and outcome, and push requests broadcast to phones' sockets. */
export function countSignIns(deps: {
  metrics: Metrics;
  loginEvents: LoginRequestEvents;
  pushEvents: EventChannel<PushRequested>;
}): void {
  const { metrics } = deps;
  deps.loginEvents.subscribe(({ before, after }) => {
    if (before === null || before.status === after.status || !COUNTED.has(after.status)) return;
    metrics.signIns.inc({ method: signInMethodOf(after), outcome: after.status });
  });
  deps.pushEvents.subscribe(() => {
    metrics.pushDeliveries.inc({ channel: "socket", outcome: "delivered" });
  });
}

/**
 * Approval → desktop, measured in this process: the first listener notes when the approval's
 * write was announced, one subscribed after the realtime layer's notes when its broadcast left.
 * What runs between (activity, timers, other listeners) is what a desktop waits for.
 */
export function timeApprovalBroadcasts(options: { metrics: Metrics }): {
  /** Subscribe before every other listener. */
  startTiming(loginEvents: LoginRequestEvents): void;
  /** Subscribe right after the realtime layer's broadcast. */
  stopTiming(loginEvents: LoginRequestEvents): void;
} {
  const started = new WeakMap<LoginRequestChanged, number>();
  const isApproval = ({ before, after }: LoginRequestChanged): boolean =>
    before !== null && before.status !== "approved" && after.status === "approved";
  return {
    startTiming(loginEvents) {
      loginEvents.subscribe((event) => {
        if (isApproval(event)) started.set(event, performance.now());
      });
    },
    stopTiming(loginEvents) {
      loginEvents.subscribe((event) => {
        const start = started.get(event);
        if (start === undefined) return;
        options.metrics.approvalToDesktop.observe((performance.now() - start) / 1000);
      });
    },
  };
}
