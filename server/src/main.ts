import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createApp } from "./app.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { cryptoRandom } from "./random.js";
import { createMemoryStore } from "./store/memory.store.js";

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
  if (config.redisUrl !== null) {
    process.stderr.write(
      "REDIS_URL: the Redis store is not available in this version yet; unset REDIS_URL to use the in-memory store.\n",
    );
    process.exit(1);
  }
  const store = createMemoryStore({ clock: systemClock });
  logger.warn("using the in-memory store: accounts, passkeys and sessions are lost when this process stops");

  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const app = createApp({
    config,
    store,
    clock: systemClock,
    random: cryptoRandom,
    logger,
    qrTokenKey: cryptoRandom.bytes(32),
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
    void app
      .close()
      .then(() => store.close())
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`Countersign failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
