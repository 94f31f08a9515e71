import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createApp, type AppDeps } from "./app.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig } from "./config.js";
import { rateLimitPolicies } from "./http/rate-limits.js";
import { createLogger } from "./logger.js";
import { cryptoRandom } from "./random.js";
import { connectRedisDeployment } from "./redis/redis.deployment.js";
import { createMemoryStore } from "./store/memory.store.js";

const SHUTDOWN_GRACE_MS = 10_000;

/** The one place that reads the environment and builds real dependencies (STYLE §7). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  let storeDeps: Pick<AppDeps, "store"> & Partial<AppDeps>;
  let closeStore: () => Promise<void>;
  if (config.redisUrl === null) {
    const store = createMemoryStore({ clock: systemClock });
    logger.warn("using the in-memory store: accounts, passkeys and sessions are lost when this process stops");
    storeDeps = { store, qrTokenKey: cryptoRandom.bytes(32) };
    closeStore = () => store.close();
  } else {
    const redis = await connectRedisDeployment({
      url: config.redisUrl,
      keyPrefix: config.redisKeyPrefix,
      clock: systemClock,
      random: cryptoRandom,
      logger,
      rateLimits: rateLimitPolicies(config),
      commandTimeoutMs: config.redisCommandTimeoutMs,
    });
    logger.info({ keyPrefix: config.redisKeyPrefix }, "using the Redis store");
    storeDeps = redis.deps;
    closeStore = async () => {
      await redis.store.close();
      await redis.close();
    };
  }

  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const app = createApp({
    config,
    ...storeDeps,
    qrTokenKey: storeDeps.qrTokenKey ?? cryptoRandom.bytes(32),
    clock: systemClock,
    random: cryptoRandom,
    logger,
    shutdownGraceMs: SHUTDOWN_GRACE_MS,
    apps: { webDist: path.join(repoRoot, "web/dist"), approverDist: path.join(repoRoot, "approver/dist") },
    ...(config.tls === null
      ? {}
      : { tls: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } }),
  });
  const port = await app.listen();
  logger.info(
    { url: config.publicOrigin, listening: `${config.host}:${port}` },
    `Countersign is up: open ${config.publicOrigin}`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // The app cuts off slow requests after its grace period; this is the last resort.
    setTimeout(() => {
      logger.error("shutdown took too long; exiting anyway");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS + 5_000).unref();
    void app
      .close()
      .then(() => closeStore())
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`Countersign failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
