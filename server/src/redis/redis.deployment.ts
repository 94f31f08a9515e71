import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Cluster } from "ioredis";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Deployment } from "../deployment.js";
import { createRedisOidcStorage } from "../oidc/oidc.storage.redis.js";
import type { Random } from "../random.js";
import type { RateLimitPolicies } from "../rate-limit/rate-limits.js";
import { createRedisRateLimits } from "../rate-limit/rate-limits.redis.js";
import { redisKeys } from "../store/redis.keys.js";
import { createRedisStore } from "../store/redis.store.js";
import {
  connectionsUp,
  createRedisClient,
  createRedisClusterClient,
  isRedisUnavailable,
  type RedisClient,
  type RedisConnection,
} from "./redis.client.js";

/** Three connections: commands (store and rate limits), publishing, and subscribing. */
interface Clients {
  commands: RedisClient;
  publisher: RedisClient;
  subscriber: RedisClient;
  /** The Socket.IO adapter over the publisher and subscriber. */
  socketAdapter(channelPrefix: string): NonNullable<Deployment["socketAdapter"]>;
  /** The commands that publish or subscribe: a failure of one is logged, never thrown. */
  pubSubCommands: { publisher: string[]; subscriber: string[] };
  /** The variable that configures it, for start-up errors. */
  setting: string;
}

/**
 * Everything a process needs to share state through Redis (DESIGN §4): the store, rate limits,
 * the Socket.IO adapter (so an event emitted by one process reaches sockets held by another),
 * and the shared key, which every process must agree on. On one Redis (`{ url }`) or a Redis
 * Cluster (`{ clusterNodes }`); the store's keys are laid out so both work (redis.keys.ts).
 */
export async function connectRedisDeployment(options: {
  connection: RedisConnection;
  keyPrefix: string;
  clock: Clock;
  random: Random;
  logger: Logger;
  rateLimits: RateLimitPolicies;
  /** How long a Redis command may take before it fails (a 503). Default 1 s. */
  commandTimeoutMs?: number;
}): Promise<Deployment> {
  const { connection, logger } = options;
  const clients =
    "url" in connection
      ? singleServerClients({ url: connection.url, commandTimeoutMs: options.commandTimeoutMs })
      : clusterClients({ nodes: connection.clusterNodes, commandTimeoutMs: options.commandTimeoutMs });
  const { commands: redis, publisher, subscriber } = clients;
  for (const [name, client] of [
    ["store", redis],
    ["pub", publisher],
    ["sub", subscriber],
  ] as const) {
    client.on("error", (error: Error) =>
      logger.warn({ redis: name, ...describeError(error) }, "redis connection error"),
    );
  }
  logFailures({ client: publisher, commands: clients.pubSubCommands.publisher, name: "pub", logger });
  logFailures({ client: subscriber, commands: clients.pubSubCommands.subscriber, name: "sub", logger });
  try {
    await Promise.all([redis.connect(), publisher.connect(), subscriber.connect()]);
  } catch (error) {
    redis.disconnect();
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(
      `${clients.setting}: cannot reach Redis (${error instanceof Error ? error.message : String(error)}). Is it running?`,
    );
  }
  // One client on one node of a Cluster would get MOVED for most keys: refuse it at start. A
  // Redis that does not allow INFO is taken for a single server.
  const clusterInfo = redis instanceof Cluster ? "" : await redis.info("cluster").catch(() => "");
  if (/^cluster_enabled:1\r?$/m.test(clusterInfo)) {
    await Promise.allSettled([redis.quit(), publisher.quit(), subscriber.quit()]);
    throw new Error("REDIS_URL: this Redis is a node of a Redis Cluster; set REDIS_CLUSTER_NODES instead");
  }

  const keys = redisKeys(options.keyPrefix);
  const sharedKey = await readSharedKey({ redis, key: keys.sharedKey(), random: options.random });
  const store = createRedisStore({ redis, clock: options.clock, keyPrefix: options.keyPrefix });
  return {
    store,
    sharedKey,
    claimShared: (name, create) => claimSharedValue({ redis, key: keys.shared(name), name, create }),
    rateLimits: createRedisRateLimits({
      redis,
      clock: options.clock,
      keyPrefix: options.keyPrefix,
      policies: options.rateLimits,
    }),
    socketAdapter: clients.socketAdapter(keys.socketChannel()),
    oidcStorage: createRedisOidcStorage({ redis, clock: options.clock, keyPrefix: options.keyPrefix }),
    // Only the commands connection answers requests; pub/sub failures cost live updates, not 503s.
    isUnavailable: (error) => isRedisUnavailable(error, { client: redis }),
    checkReady: () => checkReady(redis),
    async close() {
      await store.close();
      await Promise.allSettled([redis.quit(), publisher.quit(), subscriber.quit()]);
    },
  };
}

function singleServerClients(options: { url: string; commandTimeoutMs: number | undefined }): Clients {
  const { url, commandTimeoutMs } = options;
  // The rate limits share the store's connection, so they share its deadline too.
  const commands = createRedisClient({ url, name: "store", commandTimeoutMs });
  const publisher = createRedisClient({ url, name: "pub", commandTimeoutMs });
  // The subscriber must queue its SUBSCRIBE commands until connected, and re-subscribe after.
  // No request waits on it, and a SUBSCRIBE that timed out while Redis hung would be rejected
  // where the adapter cannot catch it, so it keeps no command deadline.
  const subscriber = publisher.duplicate({
    connectionName: "countersign:sub",
    enableOfflineQueue: true,
    commandTimeout: undefined,
    enableAutoPipelining: false,
  });
  return {
    commands,
    publisher,
    subscriber,
    socketAdapter: (key) => createAdapter(publisher, subscriber, { key }),
    pubSubCommands: { publisher: ["publish"], subscriber: [] },
    setting: "REDIS_URL",
  };
}

/**
 * A Cluster carries Socket.IO's messages by sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): a
 * channel lives on the node holding its slot, where plain PUBLISH would copy every message to
 * every node. The adapter reads ioredis's Cluster with `shardedSubscribers` (ioredis 5.9 and
 * later); see createRedisClusterClient.
 */
function clusterClients(options: {
  nodes: { host: string; port: number }[];
  commandTimeoutMs: number | undefined;
}): Clients {
  const { nodes, commandTimeoutMs } = options;
  const publisher = createRedisClusterClient({ nodes, name: "pub", commandTimeoutMs });
  const subscriber = createRedisClusterClient({ nodes, name: "sub", role: "subscriber" });
  return {
    commands: createRedisClusterClient({ nodes, name: "store", commandTimeoutMs }),
    publisher,
    subscriber,
    // "static": every process subscribes to its namespace's channel once, at start, as the
    // single-server adapter does. The default ("dynamic", a channel per room, subscribed when a
    // room is made) would leave a window after a page starts watching in which an update
    // published by another process reaches nobody.
    socketAdapter: (channelPrefix) =>
      createShardedAdapter(publisher, subscriber, { channelPrefix, subscriptionMode: "static" }),
    pubSubCommands: { publisher: ["spublish"], subscriber: ["ssubscribe", "sunsubscribe"] },
    setting: "REDIS_CLUSTER_NODES",
  };
}

/**
 * The Socket.IO adapter publishes and subscribes without awaiting. A command that fails (Redis
 * down, or past its command deadline) would otherwise be an unhandled rejection, which ends a
 * Node process; here it costs only that one update, for sockets held by the other processes.
 */
function logFailures(options: { client: RedisClient; commands: string[]; name: string; logger: Logger }): void {
  const methods = options.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const command of options.commands) {
    const original = methods[command];
    if (original === undefined) throw new Error(`ioredis has no command ${command}`);
    methods[command] = (...args) => {
      const sent = original.apply(options.client, args);
      sent.catch((error: unknown) =>
        options.logger.warn(
          { redis: options.name, command, err: error instanceof Error ? error.message : String(error) },
          "redis pub/sub command failed",
        ),
      );
      return sent;
    };
  }
}

/**
 * Resolves if Redis answers: PING on one server; on a Cluster, every slot has a master that is
 * up, every master answers PING, and the Cluster says it is serving every slot.
 */
async function checkReady(redis: RedisClient): Promise<void> {
  if (!(redis instanceof Cluster)) {
    await redis.ping();
    return;
  }
  if (!connectionsUp(redis)) throw new Error("the Redis Cluster has slots without a reachable master");
  await Promise.all(redis.nodes("master").map((node) => node.ping()));
  const info = String(await redis.call("CLUSTER", "INFO"));
  if (!/^cluster_state:ok\r?$/m.test(info)) throw new Error("the Redis Cluster is not serving every slot");
}

/** What to log of a connection error: its message, and for a Cluster what its last node said. */
function describeError(error: Error): { err: string; lastNodeError?: string } {
  const { lastNodeError } = error as { lastNodeError?: unknown };
  return lastNodeError instanceof Error
    ? { err: error.message, lastNodeError: lastNodeError.message }
    : { err: error.message };
}

/** The first process to start picks the key; every other one reads the same. */
async function readSharedKey(options: { redis: RedisClient; key: string; random: Random }): Promise<Uint8Array> {
  const { key } = options;
  const candidate = Buffer.from(options.random.bytes(32)).toString("base64url");
  await options.redis.set(key, candidate, "NX");
  const stored = await options.redis.get(key);
  if (stored === null) throw new Error("The shared key vanished from Redis right after it was written.");
  return Buffer.from(stored, "base64url");
}

/** How often a claim retries when its key is deleted between its SET NX and its GET. */
const CLAIM_ATTEMPTS = 3;

/**
 * Deployment.claimShared: GET; if there is nothing, create a candidate and SET NX it; if another
 * process got there first, GET what it wrote. One key, so it works on a Cluster too. Not SET NX
 * GET in one command, which needs Redis 7.0; a single Redis may be older. A key deleted between
 * two commands (someone rotating by hand, see README) only means another round.
 */
async function claimSharedValue(options: {
  redis: RedisClient;
  key: string;
  name: string;
  create: () => Promise<string>;
}): Promise<string> {
  const { redis, key, name } = options;
  // The name becomes part of a key: nothing SCAN would read as a pattern, no hash tag.
  if (!/^[\w.-]+$/.test(name)) {
    throw new Error(`claimShared expects a name of letters, digits, ".", "_" and "-", got "${name}"`);
  }
  let candidate: string | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const stored = await redis.get(key);
    if (stored !== null) return stored;
    candidate ??= await options.create();
    if ((await redis.set(key, candidate, "NX")) === "OK") return candidate;
    if (attempt >= CLAIM_ATTEMPTS) {
      throw new Error(`The shared value "${name}" vanished from Redis as soon as it was written, ${attempt} times.`);
    }
  }
}
