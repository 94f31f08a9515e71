import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { AppError } from "../app-error.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { DEFAULT_RATE_LIMITS } from "./rate-limits.js";
import { createRedisRateLimits } from "./rate-limits.redis.js";

// What the script does in a real Redis (windows, counts, the clock) is proven by the contract
// suite in tests/src/redis/rate-limits.test.ts; this is what the module sends and makes of replies.

interface Call {
  command: string;
  args: string[];
}

/** A client whose defined commands answer from `answer` and write down what they were sent. */
function scriptedRedis(answer: (args: string[]) => Promise<unknown>): { redis: Redis; calls: Call[] } {
  const calls: Call[] = [];
  const client: Record<string, unknown> = {
    defineCommand(command: string, definition: { numberOfKeys: number; lua: string }) {
      expect(definition.numberOfKeys).toBe(1);
      client[command] = (...args: string[]) => {
        calls.push({ command, args });
        return answer(args);
      };
    },
  };
  return { redis: client as unknown as Redis, calls };
}

describe("Redis rate limits: what goes to Redis and what comes back", () => {
  it("sends one hash-tagged key under the prefix, with the injected clock's time and the window", async () => {
    const clock = createFakeClock({ start: 1_767_225_600_000 });
    const { redis, calls } = scriptedRedis(async () => 0);
    const limits = createRedisRateLimits({ redis, clock, keyPrefix: "cs:" });
    await limits.consume({ action: "pushFromSource", key: "u1|198.51.100.0" });
    clock.advance(1_000);
    expect(await limits.tryConsume({ action: "createLogin", key: "203.0.113.7" })).toBe(true);
    expect(calls.map((call) => call.args)).toEqual([
      ["cs:rate-limit:{pushFromSource:u1|198.51.100.0}", "1767225600000", "3", "600000", "1767226200000"],
      ["cs:rate-limit:{createLogin:203.0.113.7}", "1767225601000", "30", "60000", "1767225661000"],
    ]);
  });

  it("turns the script's wait into RATE_LIMITED with Retry-After in whole seconds, rounded up", async () => {
    const { redis } = scriptedRedis(async () => 90_001);
    const limits = createRedisRateLimits({ redis, clock: createFakeClock(), keyPrefix: "cs:" });
    const refused = await limits.consume({ action: "enrol", key: "203.0.113.7" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe("RATE_LIMITED");
    expect((refused as AppError).headers).toEqual({ "Retry-After": "91" });
    expect(await limits.tryConsume({ action: "enrol", key: "203.0.113.7" })).toBe(false);
  });

  it("fails with Redis's own error while Redis is unreachable, never allowing or refusing", async () => {
    const down = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    const { redis } = scriptedRedis(() => Promise.reject(down));
    const limits = createRedisRateLimits({ redis, clock: createFakeClock(), keyPrefix: "cs:" });
    await expect(limits.consume({ action: "createLogin", key: "203.0.113.7" })).rejects.toBe(down);
    await expect(limits.tryConsume({ action: "pushToUser", key: "u1" })).rejects.toBe(down);
  });

  it("refuses a reply that is not a wait in ms", async () => {
    for (const reply of ["0", -5, 1.5, null]) {
      const { redis } = scriptedRedis(async () => reply);
      const limits = createRedisRateLimits({ redis, clock: createFakeClock(), keyPrefix: "cs:" });
      await expect(limits.tryConsume({ action: "createLogin", key: "k" })).rejects.toThrow(
        `The rate limit script answered ${JSON.stringify(reply)}, expected an integer from 0`,
      );
    }
  });

  it("refuses a prefix that is empty, a SCAN pattern or a hash tag", () => {
    const { redis } = scriptedRedis(async () => 0);
    for (const keyPrefix of ["", "cs*:", "{cs}:"]) {
      expect(() => createRedisRateLimits({ redis, clock: createFakeClock(), keyPrefix })).toThrow(
        `keyPrefix must be non-empty text without * ? [ ] \\ { }, got ${JSON.stringify(keyPrefix)}`,
      );
    }
  });

  it("checks the policies like every other implementation", () => {
    const { redis } = scriptedRedis(async () => 0);
    expect(() =>
      createRedisRateLimits({
        redis,
        clock: createFakeClock(),
        keyPrefix: "cs:",
        policies: { ...DEFAULT_RATE_LIMITS, watchLogin: { points: 2.5, durationSeconds: 60 } },
      }),
    ).toThrow("Rate limit watchLogin: points must be a positive integer, got 2.5");
  });
});
