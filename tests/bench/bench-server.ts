import {
  createApp,
  createLogger,
  createMemoryRateLimits,
  createMemoryStore,
  connectRedisDeployment,
  cryptoRandom,
  loadConfig,
  systemClock,
  type AppDeps,
  type RateLimitPolicies,
} from "@countersign/server";
import { freePort } from "../src/support/server-process.js";

export type StoreKind = "memory" | "redis";

export interface BenchServer {
  /** The public origin, which is also where to reach it (loopback). */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The real server in this process, wired as `main.ts` wires production: the system clock, real
 * randomness, and for Redis the store, rate limits, Socket.IO adapter and shared QR key all in
 * Redis. Logs are silenced so that writing them is not what gets measured.
 */
export async function startBenchServer(options: {
  store: StoreKind;
  /** Required for the Redis store: a Redis the benchmark owns. */
  redisUrl?: string;
  rateLimits: RateLimitPolicies;
}): Promise<BenchServer> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const config = loadConfig({ PORT: String(port), HOST: "127.0.0.1", PUBLIC_ORIGIN: origin, LOG_LEVEL: "silent" });
  const logger = createLogger({ level: "silent" });
  const backend = options.store === "memory" ? memoryBackend(options) : await redisBackend(options);
  const app = createApp({
    config,
    clock: systemClock,
    random: cryptoRandom,
    logger,
    ...backend.deps,
  });
  await app.listen();
  return {
    origin,
    port,
    async close() {
      await app.close();
      await backend.close();
    },
  };
}

interface Backend {
  deps: Pick<AppDeps, "store" | "rateLimits" | "qrTokenKey"> & Partial<AppDeps>;
  close(): Promise<void>;
}

function memoryBackend(options: { rateLimits: RateLimitPolicies }): Backend {
  const store = createMemoryStore({ clock: systemClock });
  return {
    deps: { store, rateLimits: createMemoryRateLimits(options.rateLimits), qrTokenKey: cryptoRandom.bytes(32) },
    close: () => store.close(),
  };
}

/**
 * Redis wired exactly as production wires it (connectRedisDeployment). Each run gets its own key
 * prefix, so runs never see each other's data.
 */
async function redisBackend(options: { redisUrl?: string; rateLimits: RateLimitPolicies }): Promise<Backend> {
  if (options.redisUrl === undefined) throw new Error("startBenchServer: the Redis store needs redisUrl, got none");
  const deployment = await connectRedisDeployment({
    url: options.redisUrl,
    keyPrefix: `bench:${Buffer.from(cryptoRandom.bytes(6)).toString("hex")}:`,
    clock: systemClock,
    random: cryptoRandom,
    logger: createLogger({ level: "silent" }),
    rateLimits: options.rateLimits,
  });
  return {
    deps: deployment.deps,
    async close() {
      await deployment.store.close();
      await deployment.close();
    },
  };
}
