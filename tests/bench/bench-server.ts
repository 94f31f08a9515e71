import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../src/support/redis-server.js";
import { SERVER_MAIN, startBenchProcess, type BenchProcess } from "./bench-process.js";
import { cpuTicksFromProcStat } from "./process-usage.js";

/** Linux's USER_HZ, what /proc/<pid>/stat counts CPU time in, on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export type StoreKind = "memory" | "redis";

/** The server under benchmark, and the Redis it owns (Redis store only). */
export interface BenchServer extends BenchProcess {
  store: StoreKind;
  /** The private redis-server's CPU time so far, ms (10 ms steps); null with the memory store or without /proc. */
  redisCpuMs(): number | null;
}

/**
 * The real server as production runs it, `node server/dist/main.js` in its own process, configured
 * only through its environment: the memory store, or a private redis-server started for it. The
 * one difference is BENCH_RELAXED_LIMITS, since every request comes from one loopback address.
 */
export async function startBenchServer(options: {
  name: string;
  store: StoreKind;
  /** More environment for the server, e.g. a longer LOGIN_TTL_SECONDS. */
  env?: Record<string, string>;
}): Promise<BenchServer> {
  let redis: RedisServer | null = null;
  if (options.store === "redis") redis = await startRedisServer();
  try {
    const server = await startBenchProcess({
      name: `${options.name}-${options.store}`,
      script: SERVER_MAIN,
      env: {
        BENCH_RELAXED_LIMITS: "true",
        ...options.env,
        ...(redis === null
          ? {}
          : { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `bench:${randomBytes(6).toString("hex")}:` }),
      },
    });
    const redisPid = redis === null ? null : redisPidOnPort(redis.port);
    return {
      ...server,
      store: options.store,
      redisCpuMs() {
        if (redisPid === null) return null;
        const ticks = cpuTicksFromProcStat(readFileSync(`/proc/${redisPid}/stat`, "utf8"));
        return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
      },
      async stop() {
        try {
          await server.stop();
        } finally {
          await redis?.stop();
        }
      },
    };
  } catch (error) {
    await redis?.stop();
    throw error;
  }
}

/**
 * The stores to measure: those asked for (--store), else memory and Redis, or only `quickStore`
 * in a quick run of a scenario that names one. Redis only when redis-server is installed; every
 * store left out gets a note saying why.
 */
export function benchStores(options: { requested: StoreKind[] | undefined; quick: boolean; quickStore?: StoreKind }): {
  stores: StoreKind[];
  notes: string[];
} {
  const notes: string[] = [];
  let stores: StoreKind[] = options.requested ?? ["memory", "redis"];
  if (options.requested === undefined && options.quick && options.quickStore !== undefined) {
    stores = [options.quickStore];
    notes.push(`Only ${options.quickStore} in a quick run (the full run measures every store; or --store).`);
  }
  if (stores.includes("redis") && !redisServerAvailable()) {
    stores = stores.filter((store) => store !== "redis");
    notes.push("Redis: SKIPPED, redis-server is not installed.");
  }
  return { stores, notes };
}

/** redis-server renames itself "redis-server 127.0.0.1:<port>"; null where /proc is missing. */
function redisPidOnPort(port: number): number | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return null;
  }
  for (const entry of entries) {
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.startsWith("redis-server") && cmdline.includes(`:${port}`)) return Number(entry);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return null;
}
