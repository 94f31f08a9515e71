import {
  createApp,
  createLogger,
  createMemoryDeployment,
  connectRedisDeployment,
  cryptoRandom,
  loadConfig,
  systemClock,
  type Deployment,
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
  const deployment = options.store === "memory" ? memoryDeployment(options) : await redisDeployment(options);
  const app = createApp({
    config,
    deployment,
    clock: systemClock,
    random: cryptoRandom,
    logger,
  });
  await app.listen();
  return {
    origin,
    port,
    async close() {
      await app.close();
      await deployment.close();
    },
  };
}

function memoryDeployment(options: { rateLimits: RateLimitPolicies }): Deployment {
  return createMemoryDeployment({ clock: systemClock, random: cryptoRandom, rateLimits: options.rateLimits });
}

/**
 * Redis wired exactly as production wires it (connectRedisDeployment). Each run gets its own key
 * prefix, so runs never see each other's data.
 */
async function redisDeployment(options: { redisUrl?: string; rateLimits: RateLimitPolicies }): Promise<Deployment> {
  if (options.redisUrl === undefined) throw new Error("startBenchServer: the Redis store needs redisUrl, got none");
  return connectRedisDeployment({
    connection: { url: options.redisUrl },
    keyPrefix: `bench:${Buffer.from(cryptoRandom.bytes(6)).toString("hex")}:`,
    clock: systemClock,
    random: cryptoRandom,
    logger: createLogger({ level: "silent" }),
    rateLimits: options.rateLimits,
  });
}
