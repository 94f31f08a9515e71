import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { AppError } from "../app-error.js";

export type RateLimitedAction =
  | "createLogin"
  | "enrol"
  | "lookupUserCode"
  | "openApproval"
  | "startApproval"
  | "watchLogin"
  | "pushFromSource"
  | "pushToUser";

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
};

/** The default limits, with the push limits the configuration asks for. */
export function rateLimitPolicies(options: { pushLimitPer10Minutes: number }): RateLimitPolicies {
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

/** In-process limits (rate-limiter-flexible): right for one server process. */
export function createMemoryRateLimits(policies: RateLimitPolicies = DEFAULT_RATE_LIMITS): RateLimits {
  return limitsFrom(
    policies,
    (action, policy) =>
      new RateLimiterMemory({ keyPrefix: action, points: policy.points, duration: policy.durationSeconds }),
  );
}

/**
 * Limits counted in Redis, shared by every process behind the load balancer. While Redis is down
 * a check fails with Redis's error (a 503), never silently allowing or denying.
 */
export function createRedisRateLimits(options: {
  redis: Redis;
  /** The Redis key prefix for one action's counters. */
  keyFor: (action: RateLimitedAction) => string;
  policies?: RateLimitPolicies;
}): RateLimits {
  return limitsFrom(
    options.policies ?? DEFAULT_RATE_LIMITS,
    (action, policy) =>
      new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix: options.keyFor(action),
        points: policy.points,
        duration: policy.durationSeconds,
        rejectIfRedisNotReady: true,
      }),
  );
}

function limitsFrom(
  policies: RateLimitPolicies,
  make: (action: RateLimitedAction, policy: RateLimitPolicy) => RateLimiterAbstract,
): RateLimits {
  const limiters = Object.fromEntries(
    (Object.entries(policies) as [RateLimitedAction, RateLimitPolicy][]).map(([action, policy]) => [
      action,
      make(action, policy),
    ]),
  ) as Record<RateLimitedAction, RateLimiterAbstract>;

  /** The limiter's verdict: null when a point was spent, else how long until the next one. */
  async function spend(action: RateLimitedAction, key: string): Promise<number | null> {
    try {
      await limiters[action].consume(key);
      return null;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return rejection.msBeforeNext;
    }
  }

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
