import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { AppError } from "../app-error.js";

export type RateLimitedAction = "createLogin" | "enrol" | "lookupUserCode" | "pushToUser";

export interface RateLimitPolicy {
  points: number;
  durationSeconds: number;
}

export type RateLimitPolicies = Record<RateLimitedAction, RateLimitPolicy>;

/** Per client IP. Generous for people, tight for scripts guessing user codes. */
export const DEFAULT_RATE_LIMITS: RateLimitPolicies = {
  createLogin: { points: 30, durationSeconds: 60 },
  enrol: { points: 20, durationSeconds: 600 },
  lookupUserCode: { points: 10, durationSeconds: 60 },
  // Per person, not per IP: at most 3 push requests reach someone's phone in 10 minutes.
  pushToUser: { points: 3, durationSeconds: 600 },
};

/** The default limits, with the per-person push limit the configuration asks for. */
export function rateLimitPolicies(options: { pushLimitPer10Minutes: number }): RateLimitPolicies {
  return { ...DEFAULT_RATE_LIMITS, pushToUser: { points: options.pushLimitPer10Minutes, durationSeconds: 600 } };
}

export interface RateLimits {
  /** Spends one point for `key`; throws RATE_LIMITED (429 with Retry-After) when none are left. */
  consume(options: { action: RateLimitedAction; key: string }): Promise<void>;
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

  return {
    async consume({ action, key }) {
      try {
        await limiters[action].consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new AppError("RATE_LIMITED", `Too many attempts; try again in ${seconds} s.`, {
          headers: { "Retry-After": String(seconds) },
        });
      }
    },
  };
}
