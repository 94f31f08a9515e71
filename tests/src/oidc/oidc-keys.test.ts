import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import {
  connectRedisDeployment,
  createLogger,
  cryptoRandom,
  DEFAULT_RATE_LIMITS,
  loadCookieKeys,
  loadSigningKeys,
  type Deployment,
  type RedisConnection,
} from "@countersign/server";
import { createFakeClock } from "@countersign/server/testing";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { REDIS_INSTALL_HINT, redisServerAvailable } from "../support/redis-server.js";

const redisUrl = inject("redisUrl");
if (redisUrl === null) {
  // Loud on purpose: a skipped suite must not pass for a green one.
  // eslint-disable-next-line no-console
  console.warn(`\n*** SKIPPING src/oidc/oidc-keys.test.ts: redis-server is not on PATH; ${REDIS_INSTALL_HINT}.\n`);
}

const uniquePrefix = (): string => `test:${randomUUID()}:`;

/** What one server process builds at start-up; every one of them is closed after each test. */
const connected: Deployment[] = [];
async function startProcess(options: { connection: RedisConnection; keyPrefix: string }): Promise<Deployment> {
  const deployment = await connectRedisDeployment({
    ...options,
    clock: createFakeClock(),
    random: cryptoRandom,
    logger: createLogger({ level: "silent" }),
    rateLimits: DEFAULT_RATE_LIMITS,
    // A deadline a slow CI machine generating RSA keys alongside cannot trip.
    commandTimeoutMs: 5_000,
  });
  connected.push(deployment);
  return deployment;
}

afterEach(async () => {
  await Promise.all(connected.splice(0).map((deployment) => deployment.close()));
});

describe.skipIf(redisUrl === null)("OpenID Provider keys on one Redis", () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(redisUrl!);
  });

  afterAll(async () => {
    await redis.quit();
  });

  const connection = (): RedisConnection => ({ url: redisUrl! });

  it("two processes starting at once serve the same signing and cookie keys, and so does a later one", async () => {
    const keyPrefix = uniquePrefix();
    const [a, b] = await Promise.all([
      startProcess({ connection: connection(), keyPrefix }),
      startProcess({ connection: connection(), keyPrefix }),
    ]);
    const [signingA, signingB, cookiesA, cookiesB] = await Promise.all([
      loadSigningKeys(a),
      loadSigningKeys(b),
      loadCookieKeys(a, cryptoRandom),
      loadCookieKeys(b, cryptoRandom),
    ]);
    expect(signingB).toEqual(signingA);
    expect(cookiesB).toEqual(cookiesA);
    expect(signingA.keys.map((key) => key.alg)).toEqual(["ES256", "RS256"]);

    const later = await startProcess({ connection: connection(), keyPrefix });
    expect(await loadSigningKeys(later)).toEqual(signingA);
    expect(await loadCookieKeys(later, cryptoRandom)).toEqual(cookiesA);
  });

  it("keeps them as JSON under the prefix, with no expiry", async () => {
    const keyPrefix = uniquePrefix();
    const deployment = await startProcess({ connection: connection(), keyPrefix });
    const signing = await loadSigningKeys(deployment);
    const cookies = await loadCookieKeys(deployment, cryptoRandom);
    expect(JSON.parse((await redis.get(`${keyPrefix}shared:oidc-signing-keys`))!)).toEqual(signing);
    expect(JSON.parse((await redis.get(`${keyPrefix}shared:oidc-cookie-keys`))!)).toEqual({ keys: cookies });
    expect(await redis.pttl(`${keyPrefix}shared:oidc-signing-keys`)).toBe(-1);
    expect(await redis.pttl(`${keyPrefix}shared:oidc-cookie-keys`)).toBe(-1);
  });

  it("gives another deployment (another prefix) keys of its own", async () => {
    const [a, b] = await Promise.all([
      startProcess({ connection: connection(), keyPrefix: uniquePrefix() }),
      startProcess({ connection: connection(), keyPrefix: uniquePrefix() }),
    ]);
    const [signingA, signingB] = await Promise.all([loadSigningKeys(a), loadSigningKeys(b)]);
    expect(signingB.keys.map((key) => key.kid)).not.toEqual(signingA.keys.map((key) => key.kid));
  });

  it("makes new keys after the stored ones are deleted, as the README's rotation says", async () => {
    const keyPrefix = uniquePrefix();
    const first = await startProcess({ connection: connection(), keyPrefix });
    const [signingBefore, cookiesBefore] = await Promise.all([
      loadSigningKeys(first),
      loadCookieKeys(first, cryptoRandom),
    ]);
    expect(await redis.del(`${keyPrefix}shared:oidc-signing-keys`, `${keyPrefix}shared:oidc-cookie-keys`)).toBe(2);

    const restarted = await startProcess({ connection: connection(), keyPrefix });
    const [signingAfter, cookiesAfter] = await Promise.all([
      loadSigningKeys(restarted),
      loadCookieKeys(restarted, cryptoRandom),
    ]);
    expect(signingAfter.keys.map((key) => key.kid)).not.toEqual(signingBefore.keys.map((key) => key.kid));
    expect(cookiesAfter).not.toEqual(cookiesBefore);
    expect(await loadSigningKeys(await startProcess({ connection: connection(), keyPrefix }))).toEqual(signingAfter);
  });

  it("claimShared: of many concurrent claims from two processes, one value wins for all", async () => {
    const keyPrefix = uniquePrefix();
    const [a, b] = await Promise.all([
      startProcess({ connection: connection(), keyPrefix }),
      startProcess({ connection: connection(), keyPrefix }),
    ]);
    const candidates = Array.from({ length: 20 }, (_, index) => `candidate-${index}`);
    const kept = await Promise.all(
      candidates.map((candidate, index) =>
        (index % 2 === 0 ? a : b).claimShared("race", () => Promise.resolve(candidate)),
      ),
    );
    expect(new Set(kept).size).toBe(1);
    expect(candidates).toContain(kept[0]);
    expect(await redis.get(`${keyPrefix}shared:race`)).toBe(kept[0]);
    // Once there is a value, nobody makes a candidate any more.
    let created = 0;
    const late = (): Promise<string> => {
      created += 1;
      return Promise.resolve("too late");
    };
    expect(await Promise.all([a.claimShared("race", late), b.claimShared("race", late)])).toEqual([kept[0], kept[0]]);
    expect(created).toBe(0);
  });

  it("claimShared refuses a name that would not make a plain key", async () => {
    const deployment = await startProcess({ connection: connection(), keyPrefix: uniquePrefix() });
    const create = (): Promise<string> => Promise.resolve("x");
    await expect(deployment.claimShared("keys*", create)).rejects.toThrow(
      'claimShared expects a name of letters, digits, ".", "_" and "-", got "keys*"',
    );
    await expect(deployment.claimShared("{tag}", create)).rejects.toThrow(/claimShared expects a name/);
  });
});

describe.skipIf(!redisServerAvailable())("OpenID Provider keys on a Redis Cluster", () => {
  let cluster: RedisCluster | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("two processes starting at once serve the same signing and cookie keys", async () => {
    const connection = { clusterNodes: cluster!.nodes };
    const keyPrefix = uniquePrefix();
    const [a, b] = await Promise.all([
      startProcess({ connection, keyPrefix }),
      startProcess({ connection, keyPrefix }),
    ]);
    const [signingA, signingB, cookiesA, cookiesB] = await Promise.all([
      loadSigningKeys(a),
      loadSigningKeys(b),
      loadCookieKeys(a, cryptoRandom),
      loadCookieKeys(b, cryptoRandom),
    ]);
    expect(signingB).toEqual(signingA);
    expect(cookiesB).toEqual(cookiesA);
    const later = await startProcess({ connection, keyPrefix });
    expect(await loadSigningKeys(later)).toEqual(signingA);
  });
});
