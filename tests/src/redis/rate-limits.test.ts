import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createMemoryRateLimits, createRedisRateLimits } from "@countersign/server";
import { createFakeClock } from "@countersign/server/testing";
import { REDIS_INSTALL_HINT } from "../support/redis-server.js";
import { describeRateLimitsContract, refusalOf, THREE_PER_10_MINUTES } from "./rate-limits-contract.js";

const redisUrl = inject("redisUrl");
if (redisUrl === null) {
  // Loud on purpose: a skipped suite must not pass for a green one.
  // eslint-disable-next-line no-console
  console.warn(
    `\n*** SKIPPING the Redis half of src/redis/rate-limits.test.ts: ` +
      `redis-server is not on PATH; ${REDIS_INSTALL_HINT}.\n`,
  );
}

const uniquePrefix = (): string => `test:${randomUUID()}:`;

describeRateLimitsContract("memory", ({ clock, policies }) => createMemoryRateLimits({ clock, policies }));

describe.skipIf(redisUrl === null)("rate limits in Redis", () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(redisUrl!);
  });

  afterAll(async () => {
    await redis.quit();
  });

  // A prefix per limiter keeps tests apart in the one Redis.
  describeRateLimitsContract("redis", ({ clock, policies }) =>
    createRedisRateLimits({ redis, clock, keyPrefix: uniquePrefix(), policies }),
  );

  it("are shared by every process: two limiters on one Redis count together, then 429 with Retry-After", async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    // One limiter per "process", as each server process builds its own.
    const [a, b] = [
      createRedisRateLimits({ redis, clock, keyPrefix, policies: THREE_PER_10_MINUTES }),
      createRedisRateLimits({ redis, clock, keyPrefix, policies: THREE_PER_10_MINUTES }),
    ];
    await a.consume({ action: "createLogin", key: "203.0.113.7" });
    await b.consume({ action: "createLogin", key: "203.0.113.7" });
    await a.consume({ action: "createLogin", key: "203.0.113.7" });
    const refused = await refusalOf(b.consume({ action: "createLogin", key: "203.0.113.7" }));
    expect(refused.code).toBe("RATE_LIMITED");
    expect(refused.headers["Retry-After"]).toBe("600");
    expect(await a.tryConsume({ action: "createLogin", key: "203.0.113.7" })).toBe(false);
  });

  it("keeps one hash-tagged key per client under the prefix, with a Redis TTL no longer than its window", async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const limits = createRedisRateLimits({ redis, clock, keyPrefix, policies: THREE_PER_10_MINUTES });
    await limits.consume({ action: "pushFromSource", key: "u1|198.51.100.0" });
    await limits.consume({ action: "pushToUser", key: "u1" });
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    expect(keys.sort()).toEqual([
      `${keyPrefix}rate-limit:{pushFromSource:u1|198.51.100.0}`,
      `${keyPrefix}rate-limit:{pushToUser:u1}`,
    ]);
    const ttl = await redis.pttl(`${keyPrefix}rate-limit:{pushToUser:u1}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600_000);
  });

  it("follows the injected clock, not Redis's, to decide that a window has ended", async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const limits = createRedisRateLimits({ redis, clock, keyPrefix, policies: THREE_PER_10_MINUTES });
    for (let index = 0; index < 3; index += 1) await limits.consume({ action: "enrol", key: "203.0.113.7" });
    await refusalOf(limits.consume({ action: "enrol", key: "203.0.113.7" }));
    clock.advance(10 * 60_000);
    // Redis still holds the full window: only the clock says it has ended.
    expect(await redis.hget(`${keyPrefix}rate-limit:{enrol:203.0.113.7}`, "spent")).toBe("3");
    await expect(limits.consume({ action: "enrol", key: "203.0.113.7" })).resolves.toBeUndefined();
    expect(await redis.hget(`${keyPrefix}rate-limit:{enrol:203.0.113.7}`, "spent")).toBe("1");
  });

  it("reports a window it cannot read instead of treating it as empty", async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const limits = createRedisRateLimits({ redis, clock, keyPrefix, policies: THREE_PER_10_MINUTES });
    await redis.hset(`${keyPrefix}rate-limit:{enrol:203.0.113.7}`, "ends", "soon", "spent", "1");
    await expect(limits.consume({ action: "enrol", key: "203.0.113.7" })).rejects.toThrow(/corrupt rate limit window/);
  });
});
