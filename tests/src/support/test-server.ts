import { createServer } from "node:net";
import {
  createApp,
  prepareOidc,
  createLogger,
  createMemoryDeployment,
  cryptoRandom,
  loadConfig,
  type App,
  type GeoLocator,
  type RateLimitPolicies,
  type Store,
} from "@countersign/server";
import { createFakeClock, type FakeClock } from "@countersign/server/testing";
import type { DestinationStream } from "pino";
import { useClockForProofs } from "./desktop-key.js";

export interface TestServer {
  origin: string;
  clock: FakeClock;
  store: Store;
  app: App;
  close(): Promise<void>;
}

/** Limits high enough that a test suite never trips them by accident. */
export const RELAXED_RATE_LIMITS: RateLimitPolicies = {
  createLogin: { points: 10_000, durationSeconds: 60 },
  enrol: { points: 10_000, durationSeconds: 60 },
  lookupUserCode: { points: 10_000, durationSeconds: 60 },
  openApproval: { points: 10_000, durationSeconds: 60 },
  startApproval: { points: 10_000, durationSeconds: 60 },
  watchLogin: { points: 10_000, durationSeconds: 60 },
  pushFromSource: { points: 10_000, durationSeconds: 60 },
  pushToUser: { points: 10_000, durationSeconds: 60 },
  // Protocol, not protection: a device or CIBA poll within 5 s hears slow_down (RFC 8628 §3.5).
  pollAsyncGrant: { points: 1, durationSeconds: 5 },
};

/**
 * The real server on a free loopback port, with the memory store and a fake clock. Everything
 * else (Express, Socket.IO, WebAuthn verification) is the production code path.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    rateLimits?: RateLimitPolicies;
    store?: (clock: FakeClock) => Store;
    apps?: { webDist: string; approverDist: string };
    /** Receives every log line (at debug level) instead of silencing them. */
    logSink?: DestinationStream;
    /** Where addresses are (testGeoLocator() for the real database); default nowhere. */
    geo?: GeoLocator;
  } = {},
): Promise<TestServer> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const config = loadConfig({ PORT: String(port), PUBLIC_ORIGIN: origin, LOG_LEVEL: "silent", ...options.env });
  const clock = createFakeClock();
  const deployment = createMemoryDeployment({
    clock,
    random: cryptoRandom,
    rateLimits: options.rateLimits ?? RELAXED_RATE_LIMITS,
    store: options.store?.(clock),
  });
  const { store } = deployment;
  const oidc =
    config.oidcClients.length === 0
      ? undefined
      : await prepareOidc({ deployment, random: cryptoRandom, clock, clients: config.oidcClients });
  const app = createApp({
    config,
    deployment,
    ...(oidc === undefined ? {} : { oidc }),
    clock,
    random: cryptoRandom,
    logger:
      options.logSink === undefined
        ? createLogger({ level: config.logLevel })
        : createLogger({ level: "debug", destination: options.logSink }),
    ...(options.apps === undefined ? {} : { apps: options.apps }),
    ...(options.geo === undefined ? {} : { geo: options.geo }),
  });
  await app.listen();
  // The tests' desktop pages sign their proofs on the server's (fake) time, as a real page's
  // clock agrees with a real server's.
  useClockForProofs(origin, () => clock.now());
  return {
    origin,
    clock,
    store,
    app,
    async close() {
      await app.close();
      await deployment.close();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
