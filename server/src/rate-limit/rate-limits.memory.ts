import type { Clock } from "../clock.js";
import {
  DEFAULT_RATE_LIMITS,
  rateLimitsFrom,
  type RateLimitedAction,
  type RateLimitPolicies,
  type RateLimits,
} from "./rate-limits.js";

interface Window {
  endsAt: number;
  spent: number;
}

/**
 * In-process limits: right for one server process (several processes need
 * createRedisRateLimits). Windows follow `clock`, and no timers run: a window that has ended is
 * dropped by the next attempt at the same action.
 */
export function createMemoryRateLimits(options: {
  /** The time every window is measured by. */
  clock: Clock;
  /** Default DEFAULT_RATE_LIMITS. */
  policies?: RateLimitPolicies;
}): RateLimits {
  // Per action, every window has the same length and opens at "now", so each map stays in the
  // order its windows end in (a reopened window is deleted and set again, moving to the end):
  // the ended ones are always at the front.
  const windowsByAction = new Map<RateLimitedAction, Map<string, Window>>();

  return rateLimitsFrom({
    policies: options.policies ?? DEFAULT_RATE_LIMITS,
    clock: options.clock,
    takePoint: async ({ action, key, points, windowMs, now }) => {
      let windows = windowsByAction.get(action);
      if (windows === undefined) {
        windows = new Map();
        windowsByAction.set(action, windows);
      }
      for (const [ended, window] of windows) {
        if (window.endsAt > now) break;
        windows.delete(ended);
      }
      const window = windows.get(key);
      if (window === undefined || window.endsAt <= now) {
        windows.delete(key);
        windows.set(key, { endsAt: now + windowMs, spent: 1 });
        return null;
      }
      if (window.spent >= points) return window.endsAt - now;
      window.spent += 1;
      return null;
    },
  });
}
