import { randomUUID } from "node:crypto";
import { Redis, type Cluster } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  createMemoryOidcStorage,
  createOidcAdapterFactory,
  createRedisClusterClient,
  createRedisOidcStorage,
  type OidcStorage,
} from "@countersign/server";
import { createFakeClock, type FakeClock } from "@countersign/server/testing";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { REDIS_INSTALL_HINT, redisServerAvailable } from "../support/redis-server.js";
import { describeOidcAdapterContract, GRACE_SECONDS, payloadOf, T0 } from "./oidc-adapter-contract.js";

const redisUrl = inject("redisUrl");
if (redisUrl === null) {
  // Loud on purpose: a skipped suite must not pass for a green one.
  // eslint-disable-next-line no-console
  console.warn(
    `\n*** SKIPPING the Redis half of src/oidc/oidc-adapter.test.ts (the OpenID adapter contract on Redis ` +
      `and on a Redis Cluster): redis-server is not on PATH; ${REDIS_INSTALL_HINT}.\n`,
  );
}

const uniquePrefix = (): string => `test:${randomUUID()}:`;

async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return found.sort();
}

describeOidcAdapterContract("memory", (clock) => createMemoryOidcStorage({ clock }));

describe.skipIf(redisUrl === null)("OpenID storage in Redis", () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(redisUrl!);
  });

  afterAll(async () => {
    await redis.quit();
  });

  // A prefix per storage keeps tests apart in the one Redis, and proves the prefix is honoured.
  describeOidcAdapterContract("redis", (clock) => createRedisOidcStorage({ redis, clock, keyPrefix: uniquePrefix() }));

  describe("keys and lifetimes", () => {
    let clock: FakeClock;
    let prefix: string;
    let storage: OidcStorage;
    let Adapter: ReturnType<typeof createOidcAdapterFactory>;

    beforeEach(() => {
      clock = createFakeClock({ start: T0 });
      prefix = uniquePrefix();
      storage = createRedisOidcStorage({ redis, clock, keyPrefix: prefix });
      Adapter = createOidcAdapterFactory({ storage, clock, graceSeconds: GRACE_SECONDS });
    });

    async function saveOneOfEach(): Promise<void> {
      await new Adapter("Session").upsert("s1", payloadOf("Session", "s1", { uid: "uid-1" }), 600);
      await new Adapter("DeviceCode").upsert(
        "d1",
        payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT", grantId: "g1" }),
        600,
      );
      await new Adapter("AccessToken").upsert("a1", payloadOf("AccessToken", "a1", { grantId: "g1" }), 3600);
      await new Adapter("Grant").upsert("g1", payloadOf("Grant", "g1"));
    }

    it("writes one key per record, index entry, grant and account, all under <prefix>oidc:", async () => {
      await saveOneOfEach();
      expect(await scanKeys(redis, `${prefix}*`)).toEqual(
        [
          "oidc:account:Grant:u1",
          "oidc:grant:g1",
          "oidc:record:AccessToken:a1",
          "oidc:record:DeviceCode:d1",
          "oidc:record:Grant:g1",
          "oidc:record:Session:s1",
          "oidc:uid:Session:uid-1",
          "oidc:user-code:DeviceCode:WDJB-MJHT",
        ]
          .map((key) => `${prefix}${key}`)
          .sort(),
      );
    });

    it("gives each key a Redis TTL of expiresIn plus the grace, and none to a record without expiresIn", async () => {
      await saveOneOfEach();
      const expected: [key: string, ms: number][] = [
        ["oidc:record:Session:s1", 660_000],
        ["oidc:uid:Session:uid-1", 660_000],
        ["oidc:record:DeviceCode:d1", 660_000],
        ["oidc:user-code:DeviceCode:WDJB-MJHT", 660_000],
        ["oidc:record:AccessToken:a1", 3_660_000],
        // The grant's set lives as long as its longest-lived token.
        ["oidc:grant:g1", 3_660_000],
      ];
      for (const [key, ms] of expected) {
        const left = await redis.pttl(`${prefix}${key}`);
        expect(left, key).toBeLessThanOrEqual(ms);
        expect(left, key).toBeGreaterThan(ms - 5_000);
      }
      expect(await redis.pttl(`${prefix}oidc:record:Grant:g1`)).toBe(-1);
      expect(await redis.pttl(`${prefix}oidc:account:Grant:u1`)).toBe(-1);
    });

    it("gives an account's set the Redis TTL of its longest-lived Grant, and prunes expired ones on a write", async () => {
      await new Adapter("Grant").upsert("g1", payloadOf("Grant", "g1"), 600);
      await new Adapter("Grant").upsert("g2", payloadOf("Grant", "g2"), 3600);
      const left = await redis.pttl(`${prefix}oidc:account:Grant:u1`);
      expect(left).toBeLessThanOrEqual(3_660_000);
      expect(left).toBeGreaterThan(3_655_000);
      clock.advance(3_000_000);
      await new Adapter("Grant").upsert("g3", payloadOf("Grant", "g3"), 60);
      expect((await redis.zrange(`${prefix}oidc:account:Grant:u1`, "0", "-1")).sort()).toEqual(["g2", "g3"]);
    });

    it("leaves no key behind once every record is destroyed or revoked", async () => {
      await saveOneOfEach();
      await new Adapter("Session").destroy("s1");
      await new Adapter("Grant").destroy("g1");
      await new Adapter("AccessToken").revokeByGrantId("g1");
      expect(await scanKeys(redis, `${prefix}*`)).toEqual([]);
    });

    it("follows the injected clock, not Redis's, to decide that a record's time is up", async () => {
      await saveOneOfEach();
      clock.advance((600 + GRACE_SECONDS) * 1000);
      // Redis still holds the keys: only the clock says they are gone.
      expect(await redis.exists(`${prefix}oidc:record:DeviceCode:d1`, `${prefix}oidc:record:Session:s1`)).toBe(2);
      expect(await new Adapter("DeviceCode").find("d1")).toBeUndefined();
      expect(await new Adapter("DeviceCode").findByUserCode("WDJB-MJHT")).toBeUndefined();
      expect(await new Adapter("Session").findByUid("uid-1")).toBeUndefined();
      await expect(new Adapter("DeviceCode").consume("d1")).rejects.toMatchObject({ error: "invalid_grant" });
      expect(await redis.hget(`${prefix}oidc:record:DeviceCode:d1`, "consumedAt")).toBeNull();
      expect(await new Adapter("AccessToken").find("a1")).toBeDefined();
    });

    it("gives the record a Redis TTL of expiresIn plus the grace, so Redis frees it by itself", async () => {
      // Redis's own clock cannot be moved: the TTL it holds is checked instead of waited out.
      const Graced = createOidcAdapterFactory({
        storage: createRedisOidcStorage({ redis, clock, keyPrefix: prefix }),
        clock,
        graceSeconds: 30,
      });
      await new Graced("ReplayDetection").upsert("r1", payloadOf("ReplayDetection", "r1"), 0);
      const ttl = await redis.pttl(`${prefix}oidc:record:ReplayDetection:r1`);
      expect(ttl).toBeGreaterThan(25_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
      await new Graced("ReplayDetection").upsert("r2", payloadOf("ReplayDetection", "r2"), 60);
      const longer = await redis.pttl(`${prefix}oidc:record:ReplayDetection:r2`);
      expect(longer).toBeGreaterThan(85_000);
      expect(longer).toBeLessThanOrEqual(90_000);
    });

    it("keeps a grant's set to its live tokens while it is refreshed for weeks", async () => {
      for (let day = 0; day < 60; day += 1) {
        await new Adapter("RefreshToken").upsert(
          `r${day}`,
          payloadOf("RefreshToken", `r${day}`, { grantId: "g1" }),
          2 * 24 * 3600,
        );
        await new Adapter("AccessToken").upsert(`a${day}`, payloadOf("AccessToken", `a${day}`, { grantId: "g1" }), 600);
        clock.advance(24 * 3600 * 1000);
      }
      // Pruned on the last write: the refresh tokens whose two days and grace have not passed
      // (the last three days') and the access token of the day; nothing older.
      expect((await redis.zrange(`${prefix}oidc:grant:g1`, "0", "-1")).sort()).toEqual([
        "AccessToken:a59",
        "RefreshToken:r57",
        "RefreshToken:r58",
        "RefreshToken:r59",
      ]);
    });

    it("lists nothing for a member of an account's set whose record is gone or another account's", async () => {
      // What an upsert interrupted between its steps leaves behind: a hint, never a Grant.
      await redis.zadd(`${prefix}oidc:account:Grant:u1`, "+inf", "ghost");
      await new Adapter("Grant").upsert("g2", payloadOf("Grant", "g2", { accountId: "u2" }), 600);
      await redis.zadd(`${prefix}oidc:account:Grant:u1`, "+inf", "g2");
      expect(await storage.listByAccount({ model: "Grant", accountId: "u1" })).toEqual([]);
      expect((await storage.listByAccount({ model: "Grant", accountId: "u2" })).map(({ id }) => id)).toEqual(["g2"]);
    });

    it("lets one of 20 consumers win across processes, each with its own connection", async () => {
      await new Adapter("AuthorizationCode").upsert("c1", payloadOf("AuthorizationCode", "c1"), 60);
      const connections = Array.from({ length: 5 }, () => new Redis(redisUrl!));
      try {
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, index) => {
            const storage = createRedisOidcStorage({ redis: connections[index % 5]!, clock, keyPrefix: prefix });
            const ProcessAdapter = createOidcAdapterFactory({ storage, clock, graceSeconds: GRACE_SECONDS });
            return new ProcessAdapter("AuthorizationCode").consume("c1").then(
              () => "won",
              (error: { error?: string }) => error.error,
            );
          }),
        );
        expect(outcomes.filter((outcome) => outcome === "won")).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === "invalid_grant")).toHaveLength(19);
      } finally {
        await Promise.all(connections.map((connection) => connection.quit()));
      }
    });
  });

  describe("values read back from Redis", () => {
    // Corrupt data throws: never half a record, and never "absent", which would let the library
    // take a consumed code for a missing one, or a write replace what is there.
    let prefix: string;
    let Adapter: ReturnType<typeof createOidcAdapterFactory>;

    beforeEach(() => {
      const clock = createFakeClock({ start: T0 });
      prefix = uniquePrefix();
      const storage = createRedisOidcStorage({ redis, clock, keyPrefix: prefix });
      Adapter = createOidcAdapterFactory({ storage, clock, graceSeconds: GRACE_SECONDS });
    });

    it("refuses a payload that is not JSON, or not a JSON object", async () => {
      await redis.hset(`${prefix}oidc:record:AccessToken:a1`, "payload", "{not json");
      await expect(new Adapter("AccessToken").find("a1")).rejects.toThrow(/Corrupt OpenID record .* not JSON/);
      await redis.hset(`${prefix}oidc:record:AccessToken:a2`, "payload", "[1,2]");
      await expect(new Adapter("AccessToken").find("a2")).rejects.toThrow(/not a JSON object/);
      await redis.hset(`${prefix}oidc:record:Session:s1`, "payload", "null", "uid", "uid-1");
      await redis.set(`${prefix}oidc:uid:Session:uid-1`, "s1");
      await expect(new Adapter("Session").findByUid("uid-1")).rejects.toThrow(/not a JSON object/);
    });

    it("refuses a record without its payload, with unknown fields, or with a time that is not a number", async () => {
      await redis.hset(`${prefix}oidc:record:AuthorizationCode:c1`, "consumedAt", "1767225600");
      await expect(new Adapter("AuthorizationCode").find("c1")).rejects.toThrow(/Corrupt OpenID record .* payload/);
      await expect(new Adapter("AuthorizationCode").consume("c1")).rejects.toThrow(/corrupt oidc record/);
      await redis.hset(`${prefix}oidc:record:AuthorizationCode:c2`, "payload", "{}", "owner", "mallory");
      await expect(new Adapter("AuthorizationCode").find("c2")).rejects.toThrow(/Corrupt OpenID record/);
      await redis.hset(`${prefix}oidc:record:AuthorizationCode:c3`, "payload", "{}", "retainUntil", "soon");
      await expect(new Adapter("AuthorizationCode").find("c3")).rejects.toThrow(/Corrupt OpenID record .* retainUntil/);
      await expect(new Adapter("AuthorizationCode").consume("c3")).rejects.toThrow(/corrupt oidc record/);
      await expect(new Adapter("AuthorizationCode").upsert("c3", { jti: "c3" }, 60)).rejects.toThrow(
        /corrupt oidc record/,
      );
      // Nothing was written over it.
      expect(await redis.hget(`${prefix}oidc:record:AuthorizationCode:c3`, "retainUntil")).toBe("soon");
    });

    it("refuses a key of another type where a record should be", async () => {
      await redis.set(`${prefix}oidc:record:RefreshToken:r1`, JSON.stringify({ jti: "r1" }));
      await expect(new Adapter("RefreshToken").find("r1")).rejects.toThrow(/WRONGTYPE/);
      await expect(new Adapter("RefreshToken").consume("r1")).rejects.toThrow(/WRONGTYPE/);
    });
  });

  describe("configuration", () => {
    it("refuses an empty prefix, or one SCAN would read as a pattern or Redis Cluster as a hash tag", () => {
      const clock = createFakeClock({ start: T0 });
      expect(() => createRedisOidcStorage({ redis, clock, keyPrefix: "" })).toThrow(/keyPrefix/);
      expect(() => createRedisOidcStorage({ redis, clock, keyPrefix: "app*:" })).toThrow(/keyPrefix/);
      expect(() => createRedisOidcStorage({ redis, clock, keyPrefix: "{app}:" })).toThrow(/keyPrefix/);
    });
  });
});

/**
 * The contract on a three-master Redis Cluster: every script and command must find its key in
 * one slot, or Redis refuses it with CROSSSLOT; the records of one grant land on several masters.
 */
describe.skipIf(!redisServerAvailable())("OpenID storage on a Redis Cluster", () => {
  let cluster: RedisCluster | undefined;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    // The production client, with a deadline a slow CI machine cannot trip.
    client = createRedisClusterClient({ nodes: cluster.nodes, name: "oidc-contract", commandTimeoutMs: 5_000 });
    await client.connect();
  });

  afterAll(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  describeOidcAdapterContract("redis cluster", (clock) =>
    createRedisOidcStorage({ redis: client, clock, keyPrefix: uniquePrefix() }),
  );

  it("lists an account's Grants spread over the masters", async () => {
    const clock = createFakeClock({ start: T0 });
    const prefix = uniquePrefix();
    const storage = createRedisOidcStorage({ redis: client, clock, keyPrefix: prefix });
    const Adapter = createOidcAdapterFactory({ storage, clock, graceSeconds: GRACE_SECONDS });
    const ids = Array.from({ length: 12 }, (_, index) => `g${index}`);
    for (const id of ids) await new Adapter("Grant").upsert(id, payloadOf("Grant", id), 3600);
    const owners = new Set(
      await Promise.all(
        ids.map(async (id) => {
          const slot = Number(await client.call("CLUSTER", "KEYSLOT", `${prefix}oidc:record:Grant:${id}`));
          return client.slots[slot]?.[0];
        }),
      ),
    );
    expect(owners.size).toBeGreaterThan(1);
    const listed = await storage.listByAccount({ model: "Grant", accountId: "u1" });
    expect(listed.map(({ id }) => id).sort()).toEqual([...ids].sort());
    await Promise.all(ids.map((id) => new Adapter("Grant").destroy(id)));
    expect(await storage.listByAccount({ model: "Grant", accountId: "u1" })).toEqual([]);
  });

  it("spreads one grant's records over the masters, and still revokes them all", async () => {
    const clock = createFakeClock({ start: T0 });
    const prefix = uniquePrefix();
    const storage = createRedisOidcStorage({ redis: client, clock, keyPrefix: prefix });
    const Adapter = createOidcAdapterFactory({ storage, clock, graceSeconds: GRACE_SECONDS });
    const ids = Array.from({ length: 12 }, (_, index) => `a${index}`);
    for (const id of ids)
      await new Adapter("AccessToken").upsert(id, payloadOf("AccessToken", id, { grantId: "g1" }), 600);
    const owners = new Set(
      await Promise.all(
        ids.map(async (id) => {
          const slot = Number(await client.call("CLUSTER", "KEYSLOT", `${prefix}oidc:record:AccessToken:${id}`));
          return client.slots[slot]?.[0];
        }),
      ),
    );
    expect(owners.size).toBeGreaterThan(1);
    await new Adapter("RefreshToken").revokeByGrantId("g1");
    for (const id of ids) expect(await new Adapter("AccessToken").find(id), id).toBeUndefined();
  });
});
