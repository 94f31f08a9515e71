import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AppError, createRedisRateLimits, DEFAULT_RATE_LIMITS, type RateLimitPolicies } from "@countersign/server";

const redisUrl = inject("redisUrl");
let redis: Redis;

beforeAll(async () => {
  if (redisUrl === null) return;
  redis = new Redis(redisUrl);
  // The limiter refuses to count on a client that is not connected yet.
  await redis.ping();
});

afterAll(async () => {
  await redis?.quit();
});

describe.skipIf(redisUrl === null)("rate limits in Redis", () => {
  it("are shared by every process: two limiters on one Redis count together, then 429 with Retry-After", async () => {
    const keyPrefix = `test:${randomUUID()}:`;
    const keyFor = (action: string): string => `${keyPrefix}ratelimit:${action}`;
    const policies = Object.fromEntries(
      Object.keys(DEFAULT_RATE_LIMITS).map((action) => [action, { points: 3, durationSeconds: 60 }]),
    ) as RateLimitPolicies;
    // One limiter per "process", as each server process builds its own.
    const [a, b] = [
      createRedisRateLimits({ redis, keyFor, policies }),
      createRedisRateLimits({ redis, keyFor, policies }),
    ];
    await a.consume({ action: "createLogin", key: "203.0.113.7" });
    await b.consume({ action: "createLogin", key: "203.0.113.7" });
    await a.consume({ action: "createLogin", key: "203.0.113.7" });
    const refused = await b.consume({ action: "createLogin", key: "203.0.113.7" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("RATE_LIMITED");
    expect(Number((refused as AppError).headers["Retry-After"])).toBeGreaterThan(0);
    // Another address and another action have their own budgets.
    await expect(b.consume({ action: "createLogin", key: "203.0.113.8" })).resolves.toBeUndefined();
    await expect(b.consume({ action: "enrol", key: "203.0.113.7" })).resolves.toBeUndefined();
  });
});
