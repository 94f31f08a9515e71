import { createAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AppDeps } from "../app.js";
import type { Clock } from "../clock.js";
import { createRedisRateLimits, type RateLimitPolicies } from "../http/rate-limits.js";
import type { Random } from "../random.js";
import { redisKeys } from "../store/redis.keys.js";
import { createRedisStore } from "../store/redis.store.js";
import type { Store } from "../store/store.js";
import { createRedisClient, isRedisUnavailable } from "./redis.client.js";

export interface RedisDeployment {
  deps: Pick<AppDeps, "store" | "rateLimits" | "socketAdapter" | "qrTokenKey" | "isStoreUnavailable" | "checkStore">;
  store: Store;
  /** Closes the three connections; call after the app has closed. */
  close(): Promise<void>;
}

/**
 * Everything a process needs to share state through Redis (DESIGN §4): the store, rate limits,
 * the Socket.IO adapter (so an event emitted by one process reaches sockets held by another),
 * and the QR token key, which every process must agree on.
 */
export async function connectRedisDeployment(options: {
  url: string;
  keyPrefix: string;
  clock: Clock;
  random: Random;
  logger: Logger;
  rateLimits: RateLimitPolicies;
  /** How long a Redis command may take before it fails (a 503). Default 1 s. */
  commandTimeoutMs?: number;
}): Promise<RedisDeployment> {
  const { commandTimeoutMs } = options;
  // The rate limits share the store's connection, so they share its deadline too.
  const redis = createRedisClient({ url: options.url, name: "store", commandTimeoutMs });
  const publisher = createRedisClient({ url: options.url, name: "pub", commandTimeoutMs });
  logFailedPublishes({ publisher, logger: options.logger });
  // The subscriber must queue its SUBSCRIBE commands until connected, and re-subscribe after.
  // No request waits on it, and a SUBSCRIBE that timed out while Redis hung would be rejected
  // where the adapter cannot catch it, so it keeps no command deadline.
  const subscriber = publisher.duplicate({
    connectionName: "countersign:sub",
    enableOfflineQueue: true,
    commandTimeout: undefined,
  });
  for (const [name, client] of [
    ["store", redis],
    ["pub", publisher],
    ["sub", subscriber],
  ] as const) {
    client.on("error", (error: Error) =>
      options.logger.warn({ redis: name, err: error.message }, "redis connection error"),
    );
  }
  try {
    await Promise.all([redis.connect(), publisher.connect(), subscriber.connect()]);
  } catch (error) {
    redis.disconnect();
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(
      `REDIS_URL: cannot reach Redis (${error instanceof Error ? error.message : String(error)}). Is it running?`,
    );
  }

  const keys = redisKeys(options.keyPrefix);
  const qrTokenKey = await sharedQrTokenKey({ redis, key: keys.qrTokenKey(), random: options.random });
  const store = createRedisStore({ redis, clock: options.clock, keyPrefix: options.keyPrefix });
  return {
    store,
    deps: {
      store,
      qrTokenKey,
      rateLimits: createRedisRateLimits({ redis, keyFor: keys.rateLimit, policies: options.rateLimits }),
      socketAdapter: createAdapter(publisher, subscriber, { key: keys.socketChannel() }),
      isStoreUnavailable: isRedisUnavailable,
      checkStore: async () => {
        await redis.ping();
      },
    },
    async close() {
      await Promise.allSettled([redis.quit(), publisher.quit(), subscriber.quit()]);
    },
  };
}

/**
 * The Socket.IO adapter publishes without awaiting. A publish that fails (Redis down, or past its
 * command deadline) would otherwise be an unhandled rejection, which ends a Node process; here it
 * costs only that one update, for sockets held by the other processes.
 */
function logFailedPublishes(options: { publisher: Redis; logger: Logger }): void {
  const { publisher, logger } = options;
  const publish = publisher.publish.bind(publisher);
  publisher.publish = ((...args: Parameters<Redis["publish"]>) => {
    const published = publish(...args);
    published.catch((error: unknown) =>
      logger.warn(
        { redis: "pub", err: error instanceof Error ? error.message : String(error) },
        "redis publish failed",
      ),
    );
    return published;
  }) as Redis["publish"];
}

/** The first process to start picks the key; every other one reads the same. */
async function sharedQrTokenKey(options: { redis: Redis; key: string; random: Random }): Promise<Uint8Array> {
  const { key } = options;
  const candidate = Buffer.from(options.random.bytes(32)).toString("base64url");
  await options.redis.set(key, candidate, "NX");
  const stored = await options.redis.get(key);
  if (stored === null) throw new Error("The QR token key vanished from Redis right after it was written.");
  return Buffer.from(stored, "base64url");
}
