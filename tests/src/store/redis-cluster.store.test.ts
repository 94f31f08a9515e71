import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectRedisDeployment,
  createLogger,
  createRedisClusterClient,
  createRedisStore,
  cryptoRandom,
  DEFAULT_RATE_LIMITS,
} from "@countersign/server";
import { createFakeClock } from "@countersign/server/testing";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { redisServerAvailable } from "../support/redis-server.js";
import { describeStoreContract } from "./store-contract.js";
import { credential, T0, user } from "./store-fixtures.js";

const uniquePrefix = (): string => `test:${randomUUID()}:`;

/**
 * The Store contract on a three-master Redis Cluster: every script, pipeline and step the Redis
 * store runs must find its keys in one slot, or Redis refuses it with CROSSSLOT.
 */
describe.skipIf(!redisServerAvailable())("Redis store on a Redis Cluster", () => {
  let cluster: RedisCluster | undefined;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    // The production client, with a deadline a slow CI machine cannot trip.
    client = createRedisClusterClient({ nodes: cluster.nodes, name: "contract", commandTimeoutMs: 5_000 });
    await client.connect();
  });

  afterAll(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  describeStoreContract("redis cluster", async (clock) => {
    const store = createRedisStore({ redis: client, clock, keyPrefix: uniquePrefix() });
    return { store, clock, dispose: () => store.close() };
  });

  it("keeps each person's keys in one slot, and spreads people over the masters", async () => {
    const prefix = uniquePrefix();
    const store = createRedisStore({ redis: client, clock: createFakeClock({ start: T0 }), keyPrefix: prefix });
    const slotOf = async (key: string): Promise<number> => Number(await client.call("CLUSTER", "KEYSLOT", key));
    const ids = Array.from({ length: 12 }, (_, index) => `u${index}`);
    for (const id of ids) {
      expect(
        await store.createUserWithCredential({ user: user(id, `name-${id}`), credential: credential(`c-${id}`, id) }),
      ).toBe("created");
    }
    const personal = (id: string): string[] =>
      ["user", "user-credentials", "user-sessions", "activity", "pending-pushes", "push-pause"]
        .map((kind) => `${prefix}${kind}:{${id}}`)
        .concat(`${prefix}credential:{${id}}:c-${id}`);
    for (const id of ids) {
      const slots = new Set(await Promise.all(personal(id).map(slotOf)));
      expect(slots.size, id).toBe(1);
    }
    const owners = new Set(
      await Promise.all(
        ids.map(async (id) => {
          const slot = await slotOf(`${prefix}user:{${id}}`);
          return client.slots[slot]?.[0];
        }),
      ),
    );
    expect(owners.size).toBeGreaterThan(1);
  });

  it("refuses REDIS_URL naming one node of a Cluster, which would answer MOVED for most keys", async () => {
    await expect(
      connectRedisDeployment({
        connection: { url: `redis://127.0.0.1:${cluster!.nodes[0]!.port}` },
        keyPrefix: uniquePrefix(),
        clock: createFakeClock({ start: T0 }),
        random: cryptoRandom,
        logger: createLogger({ level: "silent" }),
        rateLimits: DEFAULT_RATE_LIMITS,
      }),
    ).rejects.toThrow(/REDIS_URL: this Redis is a node of a Redis Cluster; set REDIS_CLUSTER_NODES instead/);
  });

  // Last: it stops a master for good.
  it("reports a master that is down: not ready, and its keys' failures count as unavailable", async () => {
    const clock = createFakeClock({ start: T0 });
    const prefix = uniquePrefix();
    const deployment = await connectRedisDeployment({
      connection: { clusterNodes: cluster!.nodes },
      keyPrefix: prefix,
      clock,
      random: cryptoRandom,
      logger: createLogger({ level: "silent" }),
      rateLimits: DEFAULT_RATE_LIMITS,
      commandTimeoutMs: 500,
    });
    try {
      await deployment.checkReady();
      const down = `127.0.0.1:${cluster!.nodes[0]!.port}`;
      // Session ids whose keys the stopped master holds, and ones another master holds.
      const ids = Array.from({ length: 40 }, (_, index) => `s${index}`);
      const owners = await Promise.all(
        ids.map(
          async (id) => client.slots[Number(await client.call("CLUSTER", "KEYSLOT", `${prefix}session:${id}`))]?.[0],
        ),
      );
      expect(owners).toContain(down);
      await cluster!.stopNode(0);

      await expect(deployment.checkReady()).rejects.toThrow();
      const outcomes = await Promise.all(
        ids.map((id) =>
          deployment.store.getSession(id).then(
            () => null,
            (error: unknown) => error,
          ),
        ),
      );
      // Only the stopped master's keys fail; the other masters keep answering.
      expect(outcomes.map((outcome) => outcome !== null)).toEqual(owners.map((owner) => owner === down));
      const failures = outcomes.filter((outcome) => outcome !== null);
      for (const failure of failures) expect(deployment.isUnavailable(failure), String(failure)).toBe(true);
      // A bug is still a bug while the Cluster is degraded.
      expect(deployment.isUnavailable(new TypeError("x is not a function"))).toBe(false);
    } finally {
      await deployment.close();
    }
  });
});
