import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { createApp } from "./app.js";
import { prepareOidc } from "./oidc/oidc.setup.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { loadGeoLocator } from "./context/geo.js";
import type { Deployment } from "./deployment.js";
import { rateLimitPolicies } from "./rate-limit/rate-limits.js";
import { createLogger } from "./logger.js";
import { cryptoRandom } from "./random.js";
import { connectRedisDeployment } from "./redis/redis.deployment.js";
import { createMemoryDeployment } from "./store/memory.deployment.js";

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
  // Read once, before listening: lookups then touch only memory (about 44 MiB, see README).
  const geoStarted = performance.now();
  const geo = loadGeoLocator();
  logger.debug({ ms: Math.round(performance.now() - geoStarted) }, "loaded the geolocation database");
  const deployment = await connectDeployment({ config, logger });

  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  // The OpenID Provider runs once clients are configured (OIDC_CLIENTS_FILE).
  const oidc =
    config.oidcClients.length === 0
      ? undefined
      : await prepareOidc({ deployment, random: cryptoRandom, clock: systemClock, clients: config.oidcClients });
  const app = createApp({
    ...(oidc === undefined ? {} : { oidc }),
    geo,
    config,
    deployment,
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
      .then(() => deployment.close())
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** The deployment the configuration names: one Redis, a Redis Cluster, or this process's memory. */
async function connectDeployment(options: { config: Config; logger: Logger }): Promise<Deployment> {
  const { config, logger } = options;
  const connection =
    config.redisUrl !== null
      ? { url: config.redisUrl }
      : config.redisClusterNodes !== null
        ? { clusterNodes: config.redisClusterNodes }
        : null;
  if (connection === null) {
    logger.warn("using the in-memory store: accounts, passkeys and sessions are lost when this process stops");
    return createMemoryDeployment({ clock: systemClock, random: cryptoRandom });
  }
  const deployment = await connectRedisDeployment({
    connection,
    keyPrefix: config.redisKeyPrefix,
    clock: systemClock,
    random: cryptoRandom,
    logger,
    rateLimits: rateLimitPolicies(config),
    commandTimeoutMs: config.redisCommandTimeoutMs,
  });
  logger.info({ keyPrefix: config.redisKeyPrefix, cluster: "clusterNodes" in connection }, "using the Redis store");
  return deployment;
}

main().catch((error: unknown) => {
  process.stderr.write(`Countersign failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
