import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";

export type RateLimitedAction =
  | "createLogin"
  | "enrol"
  | "lookupUserCode"
  | "openApproval"
  | "startApproval"
  | "watchLogin"
  | "pushFromSource"
  | "pushToUser"
  | "pollAsyncGrant";

export interface RateLimitPolicy {
  points: number;
  durationSeconds: number;
}

export type RateLimitPolicies = Record<RateLimitedAction, RateLimitPolicy>;

/**
 * Per client IP unless said otherwise. Generous for people, tight for scripts guessing user
 * codes; every route that stores something for an anonymous caller has one.
 */
export const DEFAULT_RATE_LIMITS: RateLimitPolicies = {
  createLogin: { points: 30, durationSeconds: 60 },
  enrol: { points: 20, durationSeconds: 600 },
  lookupUserCode: { points: 10, durationSeconds: 60 },
  openApproval: { points: 30, durationSeconds: 60 },
  startApproval: { points: 30, durationSeconds: 60 },
  watchLogin: { points: 60, durationSeconds: 60 },
  // Push sign-in, keyed per person AND requesting network: one source's pushes can't use up
  // what the person's own network may send (push-login.service.ts explains the design).
  pushFromSource: { points: 3, durationSeconds: 600 },
  // Per person, from all sources together: the ceiling on how often a phone can be asked.
  pushToUser: { points: 10, durationSeconds: 600 },
  // Per device code or CIBA request: one token-endpoint poll per interval (RFC 8628 §3.5's
  // default of 5 s); a faster one is answered slow_down.
  pollAsyncGrant: { points: 1, durationSeconds: 5 },
};

/**
 * What BENCH_RELAXED_LIMITS sets: far more than a benchmark sends from its one loopback address,
 * so every request does its full work and none is refused. The token-endpoint poll interval is
 * protocol, not protection, so it stays.
 */
const BENCH_UNLIMITED: RateLimitPolicy = { points: 1_000_000_000, durationSeconds: 600 };
export const BENCH_RELAXED_RATE_LIMITS: RateLimitPolicies = {
  createLogin: BENCH_UNLIMITED,
  enrol: BENCH_UNLIMITED,
  lookupUserCode: BENCH_UNLIMITED,
  openApproval: BENCH_UNLIMITED,
  startApproval: BENCH_UNLIMITED,
  watchLogin: BENCH_UNLIMITED,
  pushFromSource: BENCH_UNLIMITED,
  pushToUser: BENCH_UNLIMITED,
  pollAsyncGrant: DEFAULT_RATE_LIMITS.pollAsyncGrant,
};

/** The default limits, with the push limits the configuration asks for (or the benchmark's). */
export function rateLimitPolicies(options: {
  pushLimitPer10Minutes: number;
  /** Default false; config.ts refuses it in production. */
  benchRelaxedLimits?: boolean;
}): RateLimitPolicies {
  if (options.benchRelaxedLimits === true) return BENCH_RELAXED_RATE_LIMITS;
  const perSource = options.pushLimitPer10Minutes;
  return {
    ...DEFAULT_RATE_LIMITS,
    pushFromSource: { points: perSource, durationSeconds: 600 },
    pushToUser: { points: Math.max(DEFAULT_RATE_LIMITS.pushToUser.points, perSource), durationSeconds: 600 },
  };
}

export interface RateLimits {
  /** Spends one point for `key`; throws RATE_LIMITED (429 with Retry-After) when none are left. */
  consume(options: { action: RateLimitedAction; key: string }): Promise<void>;
  /** Spends one point for `key` if one is left; resolves whether it was. */
  tryConsume(options: { action: RateLimitedAction; key: string }): Promise<boolean>;
}

/**
 * One atomic step on one key's window, as a limits implementation stores it: spends a point and
 * resolves null, or, with none left, resolves how many ms remain until the window ends.
 */
export type TakePoint = (options: {
  /** Names the counter: action and client key together. */
  action: RateLimitedAction;
  key: string;
  points: number;
  windowMs: number;
  /** The injected clock's time: implementations never read a clock of their own. */
  now: number;
}) => Promise<number | null>;

/**
 * Every limit is a fixed window that opens at a key's first attempt and lasts the policy's
 * duration: up to `points` attempts pass in it, the rest are refused until it ends (the window
 * rate-limiter-flexible gave us before). We count for ourselves because that library's limiters
 * read Date.now() and lean on their own timers or on Redis's TTLs, and none can take an injected
 * Clock: "3 per 10 minutes" could be tested only by count, never by moving time.
 *
 * Builds RateLimits from one implementation's `takePoint`, after checking the policies.
 */
export function rateLimitsFrom(options: {
  policies: RateLimitPolicies;
  clock: Clock;
  takePoint: TakePoint;
}): RateLimits {
  const { policies, clock, takePoint } = options;
  for (const [action, policy] of Object.entries(policies)) {
    if (!Number.isSafeInteger(policy.points) || policy.points < 1) {
      throw new Error(`Rate limit ${action}: points must be a positive integer, got ${policy.points}`);
    }
    if (!Number.isFinite(policy.durationSeconds) || Math.round(policy.durationSeconds * 1000) < 1) {
      throw new Error(`Rate limit ${action}: durationSeconds must be at least 1 ms, got ${policy.durationSeconds}`);
    }
  }

  const spend = (action: RateLimitedAction, key: string): Promise<number | null> => {
    const policy = policies[action];
    return takePoint({
      action,
      key,
      points: policy.points,
      windowMs: Math.round(policy.durationSeconds * 1000),
      now: clock.now(),
    });
  };

  return {
    async consume({ action, key }) {
      const waitMs = await spend(action, key);
      if (waitMs === null) return;
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new AppError("RATE_LIMITED", `Too many attempts; try again in ${seconds} s.`, {
        headers: { "Retry-After": String(seconds) },
      });
    },
    async tryConsume({ action, key }) {
      return (await spend(action, key)) === null;
    },
  };
}
