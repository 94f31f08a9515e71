import { isTerminalStatus } from "@countersign/shared";
import type { Clock, TimerHandle } from "../clock.js";
import type { LoginRequestRecord } from "../store/store.js";
import type { LoginRequestEvents } from "./login-request.events.js";

export interface ExpiryScheduler {
  /** Makes sure this process writes (and so announces) the request's expiry when its time comes. */
  watch(request: LoginRequestRecord): void;
  close(): void;
}

/**
 * Expiry is derived on every read, so nobody can act on an expired request; the timer only makes
 * the change happen (and be heard live) when nobody is reading. It follows every change it
 * hears of, and a desktop watching re-arms it in whichever process holds the desktop's socket.
 */
export function createExpiryScheduler(deps: {
  clock: Clock;
  events: LoginRequestEvents;
  expireIfDue: (id: string) => Promise<unknown>;
}): ExpiryScheduler {
  const timers = new Map<string, TimerHandle>();

  function watch(request: LoginRequestRecord): void {
    timers.get(request.id)?.cancel();
    timers.delete(request.id);
    if (isTerminalStatus(request.status)) return;
    const deadline = request.status === "approved" && request.redeemBy !== null ? request.redeemBy : request.expiresAt;
    const timer = deps.clock.schedule(() => {
      timers.delete(request.id);
      // A timer has no caller to report to; a store outage here is retried by the next read.
      deps.expireIfDue(request.id).catch(() => undefined);
    }, deadline - deps.clock.now());
    timers.set(request.id, timer);
  }

  deps.events.subscribe(({ after }) => watch(after));

  return {
    watch,
    close() {
      for (const timer of timers.values()) timer.cancel();
      timers.clear();
    },
  };
}
