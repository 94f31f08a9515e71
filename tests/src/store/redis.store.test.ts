import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createRedisStore, type Store } from "@countersign/server";
import { createFakeClock, type FakeClock } from "@countersign/server/testing";
import { REDIS_INSTALL_HINT } from "../support/redis-server.js";
import { describeStoreContract } from "./store-contract.js";
import { credential as baseCredential, loginRequest, session, T0 } from "./store-fixtures.js";

const redisUrl = inject("redisUrl");
if (redisUrl === null) {
  // Loud on purpose: a skipped suite must not pass for a green one.
  // eslint-disable-next-line no-console
  console.warn(
    `\n*** SKIPPING src/store/redis.store.test.ts (the Store contract on Redis and the Redis store tests): ` +
      `redis-server is not on PATH; ${REDIS_INSTALL_HINT}.\n`,
  );
}

/** A logical database only the key-layout tests use, so they can see every key a store writes. */
const LAYOUT_DB = 15;

const uniquePrefix = (): string => `test:${randomUUID()}:`;

/** A credential whose transports list is empty: that must survive the round trip as an array. */
const credential = (id: string, userId: string): ReturnType<typeof baseCredential> => ({
  ...baseCredential(id, userId),
  transports: [],
});

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

describe.skipIf(redisUrl === null)("Redis store", () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(redisUrl!);
  });

  afterAll(async () => {
    await redis.quit();
  });

  // A prefix per store keeps tests apart in the one Redis, and proves the prefix is honoured.
  describeStoreContract("redis", async (clock) => {
    const store = createRedisStore({ redis, clock, keyPrefix: uniquePrefix() });
    return { store, clock, dispose: () => store.close() };
  });

  describe("key layout and lifetimes", () => {
    let layout: Redis;
    let clock: FakeClock;
    let prefix: string;
    let store: Store;

    beforeAll(() => {
      layout = new Redis(redisUrl!, { db: LAYOUT_DB });
    });
    afterAll(async () => {
      await layout.flushdb();
      await layout.quit();
    });
    beforeEach(async () => {
      await layout.flushdb();
      clock = createFakeClock({ start: T0 });
      prefix = uniquePrefix();
      store = createRedisStore({ redis: layout, clock, keyPrefix: prefix });
    });

    /** Every operation that writes, so the layout tests see every kind of key. */
    async function writeOneOfEverything(): Promise<void> {
      await store.createUserWithCredential({
        user: { id: "u1", username: "山田", displayName: "Yamada", webauthnUserId: "wa", createdAt: T0 },
        credential: credential("c1", "u1"),
      });
      await store.addCredential({ ...credential("c2", "u1"), createdAt: T0 + 1 });
      await store.advanceCredentialCounter({ id: "c1", counter: 7, usedAt: T0 + 5 });
      await store.putCeremony({
        id: "k1",
        kind: "approval",
        loginRequestId: "l1",
        challenge: "c",
        expiresAt: T0 + 60_000,
      });
      await store.putCeremony({
        id: "k2",
        kind: "approval",
        loginRequestId: "l1",
        challenge: "c",
        expiresAt: T0 + 60_000,
      });
      await store.takeCeremony("k2");
      await store.createLoginRequest(loginRequest("l1", { status: "approved", version: 3 }));
      await store.createLoginRequest(loginRequest("l2"));
      await store.compareAndSetLoginRequest({
        expectedVersion: 1,
        next: loginRequest("l2", { status: "scanned", version: 2 }),
      });
      await store.redeemLoginRequest({
        expectedVersion: 3,
        next: loginRequest("l1", { status: "redeemed", version: 4 }),
        session: session("s1"),
      });
      await store.createSession(session("s2", { kind: "approver", expiresAt: T0 + 1_000 }));
      await store.createSession(session("s3"));
      await store.deleteSession("s3");
      await store.appendActivity({
        userId: "u1",
        event: { at: T0, kind: "login_approved", loginRequestId: "l1", context: null, detail: null },
      });
    }

    it("writes every key under the configured prefix and nothing anywhere else", async () => {
      await writeOneOfEverything();
      const everything = await scanKeys(layout, "*");
      expect(everything).toEqual(
        [
          "activity:{u1}",
          "ceremony:k1",
          "credential-owner:c1",
          "credential-owner:c2",
          "credential:{u1}:c1",
          "credential:{u1}:c2",
          "login-code:CODE-l1",
          "login-code:CODE-l2",
          "login:l1",
          "login:l2",
          "session:s1",
          "session:s2",
          "user-credentials:{u1}",
          "user-sessions:{u1}",
          "user:{u1}",
          "username:山田",
        ]
          .map((key) => `${prefix}${key}`)
          .sort(),
      );
      expect(await scanKeys(layout, `${prefix}*`)).toEqual(everything);
    });

    it('uses "countersign:" when no prefix is given', async () => {
      const plain = createRedisStore({ redis: layout, clock });
      await plain.createSession(session("s1"));
      expect(await scanKeys(layout, "*")).toEqual(["countersign:session:s1", "countersign:user-sessions:{u1}"]);
    });

    it("gives every expiring record a Redis TTL up to its own time, and keeps accounts", async () => {
      await writeOneOfEverything();
      const ttl = (key: string): Promise<number> => layout.pttl(`${prefix}${key}`);
      const expiring: [key: string, lifetime: number][] = [
        ["ceremony:k1", 60_000],
        ["login:l1", 600_000],
        ["login:l2", 600_000],
        ["login-code:CODE-l1", 600_000],
        ["login-code:CODE-l2", 600_000],
        ["session:s1", 3_600_000],
        ["session:s2", 1_000],
        ["user-sessions:{u1}", 3_600_000],
      ];
      for (const [key, lifetime] of expiring) {
        const left = await ttl(key);
        expect(left, key).toBeGreaterThan(0);
        expect(left, key).toBeLessThanOrEqual(lifetime);
      }
      // Accounts never expire (DESIGN §2); activity is capped instead.
      const accountKeys = [
        "user:{u1}",
        "username:山田",
        "credential:{u1}:c1",
        "credential-owner:c1",
        "user-credentials:{u1}",
        "activity:{u1}",
      ];
      for (const key of accountKeys) {
        expect(await ttl(key), key).toBe(-1);
      }
    });

    it("gives a record written after its time the shortest TTL and reads it as absent", async () => {
      clock.advance(10_000);
      await store.createSession(session("late", { expiresAt: T0 + 5_000 }));
      expect(await store.getSession("late")).toBeNull();
      expect(await layout.pttl(`${prefix}session:late`)).toBeLessThanOrEqual(1);
    });
  });

  describe("time, versions and the user-code index", () => {
    let clock: FakeClock;
    let prefix: string;
    let store: Store;

    beforeEach(() => {
      clock = createFakeClock({ start: T0 });
      prefix = uniquePrefix();
      store = createRedisStore({ redis, clock, keyPrefix: prefix });
    });

    it("follows the injected clock, not Redis's, to decide what has expired", async () => {
      await store.putCeremony({
        id: "k1",
        kind: "approval",
        loginRequestId: "l1",
        challenge: "c",
        expiresAt: T0 + 60_000,
      });
      await store.createLoginRequest(loginRequest("l1"));
      clock.advance(600_000);
      // Redis still holds both keys: only the clock says they are gone.
      expect(await redis.exists(`${prefix}ceremony:k1`, `${prefix}login:l1`)).toBe(2);
      expect(await store.takeCeremony("k1")).toBeNull();
      expect(await store.getLoginRequest("l1")).toBeNull();
      expect(
        await store.compareAndSetLoginRequest({ expectedVersion: 1, next: loginRequest("l1", { version: 2 }) }),
      ).toBe(false);
      expect(
        await store.createLoginRequest(loginRequest("l2", { userCode: "CODE-l1", retainUntil: T0 + 1_200_000 })),
      ).toBe("created");
    });

    it("keeps the user code held as long as its request when a write moves retainUntil", async () => {
      await store.createLoginRequest(loginRequest("l1"));
      const later = loginRequest("l1", { status: "scanned", version: 2, retainUntil: T0 + 1_200_000 });
      expect(await store.compareAndSetLoginRequest({ expectedVersion: 1, next: later })).toBe(true);
      expect(await redis.pttl(`${prefix}login-code:CODE-l1`)).toBeGreaterThan(600_000);
      clock.advance(700_000);
      expect(await store.findLoginRequestByUserCode("CODE-l1")).toEqual(later);
      expect(
        await store.createLoginRequest(loginRequest("l2", { userCode: "CODE-l1", retainUntil: T0 + 2_000_000 })),
      ).toBe("conflict");
    });

    it("returns false for a stale writer whatever next.version it sends, and refuses a skipped version", async () => {
      await store.createLoginRequest(loginRequest("l1", { status: "approved", version: 3 }));
      const redeemed = loginRequest("l1", { status: "redeemed", version: 4 });
      expect(await store.redeemLoginRequest({ expectedVersion: 2, next: redeemed, session: session("lost") })).toBe(
        false,
      );
      expect(await store.compareAndSetLoginRequest({ expectedVersion: 2, next: redeemed })).toBe(false);
      const skipped = loginRequest("l1", { status: "redeemed", version: 5 });
      await expect(store.compareAndSetLoginRequest({ expectedVersion: 3, next: skipped })).rejects.toThrow(
        /next.version must be expectedVersion \+ 1/,
      );
      await expect(
        store.redeemLoginRequest({ expectedVersion: 3, next: skipped, session: session("lost") }),
      ).rejects.toThrow(/next.version must be expectedVersion \+ 1/);
      expect(await store.getLoginRequest("l1")).toMatchObject({ version: 3, status: "approved" });
      expect(await store.getSession("lost")).toBeNull();
    });
  });

  describe("operations run as steps across hash slots", () => {
    let clock: FakeClock;
    let prefix: string;
    let store: Store;

    beforeEach(() => {
      clock = createFakeClock({ start: T0 });
      prefix = uniquePrefix();
      store = createRedisStore({ redis, clock, keyPrefix: prefix });
    });

    const ana = { id: "u1", username: "ana", displayName: "Ana", webauthnUserId: "wa", createdAt: T0 };

    it("holds a name claimed by a sign-up that died half way only for the lease, and reads it as absent", async () => {
      // What a process that crashed after claiming the name leaves behind: a claim, no records.
      await redis.set(`${prefix}username:ana`, "u-crashed", "PX", 300_000);
      expect(await store.findUserByUsername("ana")).toBeNull();
      expect(await store.createUserWithCredential({ user: ana, credential: credential("c1", "u1") })).toBe(
        "username_taken",
      );
      const lease = await redis.pttl(`${prefix}username:ana`);
      expect(lease).toBeGreaterThan(0);
      expect(lease).toBeLessThanOrEqual(300_000);
      expect(await store.getCredential("c1")).toBeNull();
      expect(await redis.exists(`${prefix}credential-owner:c1`)).toBe(0);
    });

    it("gives a name back when the passkey id is taken, so the next sign-up with it succeeds", async () => {
      await store.createUserWithCredential({ user: ana, credential: credential("c1", "u1") });
      const bea = { ...ana, id: "u2", username: "bea" };
      expect(await store.createUserWithCredential({ user: bea, credential: credential("c1", "u2") })).toBe(
        "credential_taken",
      );
      expect(await redis.exists(`${prefix}username:bea`, `${prefix}user:{u2}`)).toBe(0);
      expect(await store.createUserWithCredential({ user: bea, credential: credential("c2", "u2") })).toBe("created");
      expect(await redis.pttl(`${prefix}username:bea`)).toBe(-1);
    });

    it("removes a passkey's owner entry with it, so its id is free again", async () => {
      await store.createUserWithCredential({ user: ana, credential: credential("c1", "u1") });
      await store.addCredential(credential("c2", "u1"));
      expect(await store.removeCredential({ userId: "u1", credentialId: "c2" })).toBe("removed");
      expect(await redis.exists(`${prefix}credential-owner:c2`, `${prefix}credential:{u1}:c2`)).toBe(0);
      expect(await store.addCredential(credential("c2", "u1"))).toBe("added");
    });

    it("leaves neither session nor index entry behind for a redeem that lost", async () => {
      await store.createLoginRequest(loginRequest("l1", { status: "approved", version: 3 }));
      const next = loginRequest("l1", { status: "redeemed", version: 4 });
      expect(await store.redeemLoginRequest({ expectedVersion: 3, next, session: session("won") })).toBe(true);
      expect(await store.redeemLoginRequest({ expectedVersion: 3, next, session: session("lost") })).toBe(false);
      expect(await redis.smembers(`${prefix}user-sessions:{u1}`)).toEqual(["won"]);
      expect(await redis.exists(`${prefix}session:lost`)).toBe(0);
    });

    it("gives a user code back when the request id is taken", async () => {
      await store.createLoginRequest(loginRequest("l1"));
      expect(await store.createLoginRequest(loginRequest("l1", { userCode: "FREE2345" }))).toBe("conflict");
      expect(await redis.exists(`${prefix}login-code:FREE2345`)).toBe(0);
      expect(await store.createLoginRequest(loginRequest("l2", { userCode: "FREE2345" }))).toBe("created");
    });
  });

  describe("values read back from Redis", () => {
    // A corrupted value throws "Corrupt … in the store": never half a record, and never null,
    // which would let the next write overwrite what is there.
    let prefix: string;
    let store: Store;

    beforeEach(() => {
      prefix = uniquePrefix();
      store = createRedisStore({ redis, clock: createFakeClock({ start: T0 }), keyPrefix: prefix });
    });

    it("refuses a record with missing or mistyped fields", async () => {
      await redis.set(`${prefix}user:{u1}`, JSON.stringify({ id: "u1", username: "x" }));
      await expect(store.getUser("u1")).rejects.toThrow(/Corrupt user/);
      await redis.set(`${prefix}username:x`, "u1");
      await expect(store.findUserByUsername("x")).rejects.toThrow(/Corrupt user/);
      await redis.set(`${prefix}login:l1`, JSON.stringify({ ...loginRequest("l1"), status: "hacked" }));
      await expect(store.getLoginRequest("l1")).rejects.toThrow(/Corrupt login request in the store at status/);
      await redis.set(`${prefix}ceremony:k1`, JSON.stringify({ id: "k1", kind: "approval", expiresAt: T0 + 1 }));
      await expect(store.takeCeremony("k1")).rejects.toThrow(/Corrupt ceremony/);
      await redis.lpush(`${prefix}activity:{u1}`, JSON.stringify({ at: "yesterday" }));
      await expect(store.listActivity("u1")).rejects.toThrow(/Corrupt activity event/);
    });

    it("reads a login request written before proximity verdicts as not yet opened by a phone", async () => {
      const { proximity: _absent, ...older } = loginRequest("l1");
      await redis.set(`${prefix}login:l1`, JSON.stringify(older));
      expect(await store.getLoginRequest("l1")).toEqual(loginRequest("l1", { proximity: null }));
      await redis.set(`${prefix}login:l2`, JSON.stringify({ ...older, proximity: { verdict: "nearby" } }));
      await expect(store.getLoginRequest("l2")).rejects.toThrow(/Corrupt login request in the store at proximity/);
    });

    it("refuses a value that is not JSON", async () => {
      await redis.set(`${prefix}session:s`, "{not json");
      await expect(store.getSession("s")).rejects.toThrow(/Corrupt session in the store: not JSON/);
      // The single-use take still removes it: a corrupted session can never be used again.
      await expect(store.deleteSession("s")).rejects.toThrow(/Corrupt session/);
      expect(await store.getSession("s")).toBeNull();
    });

    it("refuses a credential whose counter is not a number, in reads and in scripts", async () => {
      await store.createUserWithCredential({
        user: { id: "u1", username: "ana", displayName: "Ana", webauthnUserId: "wa", createdAt: T0 },
        credential: credential("c1", "u1"),
      });
      expect(await store.getCredential("c1")).toEqual(credential("c1", "u1"));
      await redis.hset(`${prefix}credential:{u1}:c1`, "counter", "lots");
      await expect(store.getCredential("c1")).rejects.toThrow(/Corrupt credential in the store at counter/);
      await expect(store.listCredentials("u1")).rejects.toThrow(/Corrupt credential/);
      await expect(store.advanceCredentialCounter({ id: "c1", counter: 9, usedAt: T0 })).rejects.toThrow(
        /corrupt credential/,
      );
      expect(await redis.hget(`${prefix}credential:{u1}:c1`, "counter")).toBe("lots");
    });

    it("refuses to compare-and-set over a login request that is not JSON", async () => {
      await redis.set(`${prefix}login:l1`, "{not json");
      await expect(
        store.compareAndSetLoginRequest({ expectedVersion: 1, next: loginRequest("l1", { version: 2 }) }),
      ).rejects.toThrow();
      expect(await redis.get(`${prefix}login:l1`)).toBe("{not json");
    });
  });

  describe("configuration and ownership", () => {
    it("refuses an empty prefix or one SCAN would read as a pattern", () => {
      const clock = createFakeClock({ start: T0 });
      expect(() => createRedisStore({ redis, clock, keyPrefix: "" })).toThrow(/keyPrefix/);
      expect(() => createRedisStore({ redis, clock, keyPrefix: "app*:" })).toThrow(/keyPrefix/);
      // A brace would make the prefix a hash tag, putting every key in one Cluster slot.
      expect(() => createRedisStore({ redis, clock, keyPrefix: "{app}:" })).toThrow(/keyPrefix/);
    });

    it("leaves the caller's client open when closed", async () => {
      const store = createRedisStore({ redis, clock: createFakeClock({ start: T0 }), keyPrefix: uniquePrefix() });
      await store.close();
      expect(await redis.ping()).toBe("PONG");
    });
  });
});
