import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRedisStore } from "@countersign/server";
import { createFakeClock } from "@countersign/server/testing";
import { describeStoreContract } from "./store-contract.js";

const redisUrl = inject("redisUrl");
let redis: Redis;

beforeAll(() => {
  if (redisUrl !== null) redis = new Redis(redisUrl);
});

afterAll(async () => {
  await redis?.quit();
});

if (redisUrl !== null) {
  // A prefix per store keeps tests apart in the one Redis, and proves the prefix is honoured.
  describeStoreContract("redis", async (clock) => {
    const store = createRedisStore({ redis, clock, keyPrefix: `test:${randomUUID()}:` });
    return { store, clock, dispose: () => store.close() };
  });
}

describe.skipIf(redisUrl === null)("Redis store specifics", () => {
  const T0 = Date.UTC(2026, 0, 1);
  const context = { ip: null, browser: null, os: null, deviceType: "unknown" as const, label: "x", place: null };

  async function keysUnder(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    return found;
  }

  it("keeps every key under its prefix, and gives every expiring record a Redis TTL", async () => {
    const prefix = `test:${randomUUID()}:`;
    const clock = createFakeClock({ start: T0 });
    const store = createRedisStore({ redis, clock, keyPrefix: prefix });
    await store.putCeremony({ id: "k", kind: "approval", loginRequestId: "l", challenge: "c", expiresAt: T0 + 60_000 });
    await store.createLoginRequest({
      id: "l1",
      status: "pending",
      version: 1,
      createdAt: T0,
      expiresAt: T0 + 120_000,
      retainUntil: T0 + 600_000,
      desktopSecretHash: "h",
      userCode: "ABCDEFGH",
      desktop: context,
      scannedAt: null,
      scannedBy: null,
      decidedAt: null,
      userId: null,
      credentialId: null,
      approver: null,
      approvedAt: null,
      redeemBy: null,
      denyReason: null,
    });
    await store.createSession({
      tokenHash: "s",
      kind: "desktop",
      userId: "u",
      createdAt: T0,
      lastSeenAt: T0,
      expiresAt: T0 + 3_600_000,
      context,
      source: { kind: "enrolment", credentialId: "c" },
    });
    const keys = await keysUnder(prefix);
    expect(keys.sort()).toEqual(
      [`${prefix}ceremony:k`, `${prefix}login-code:ABCDEFGH`, `${prefix}login:l1`, `${prefix}session:s`].sort(),
    );
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
    }
    expect(await redis.pttl(`${prefix}login:l1`)).toBeLessThanOrEqual(600_000);
  });

  it("refuses to read a corrupted record instead of returning half a record", async () => {
    const prefix = `test:${randomUUID()}:`;
    const store = createRedisStore({ redis, clock: createFakeClock({ start: T0 }), keyPrefix: prefix });
    await redis.set(`${prefix}user:u1`, JSON.stringify({ id: "u1", username: "x" }));
    await expect(store.getUser("u1")).rejects.toThrow(/Corrupt user/);
    await redis.set(`${prefix}session:s`, "{not json");
    await expect(store.getSession("s")).rejects.toThrow(/Corrupt session/);
  });
});
