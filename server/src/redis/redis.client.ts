import { Redis } from "ioredis";

/**
 * A Redis connection for a server process. Commands fail at once while Redis is down instead of
 * queueing: a request must get a clear 503 now, not hang until Redis returns. The client keeps
 * reconnecting in the background, so the process recovers by itself.
 */
export function createRedisClient(options: { url: string; name: string }): Redis {
  return new Redis(options.url, {
    connectionName: `countersign:${options.name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // Back off up to 1 s between attempts, forever: a Redis restart must not need ours.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    lazyConnect: true,
  });
}

const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable",
  "Connection is closed",
  "Reached the max retries per request limit",
  "connect ECONNREFUSED",
  "read ECONNRESET",
  "LOADING",
  // rate-limiter-flexible, when its Redis client is not connected.
  "Redis connection is not ready",
];

/** Whether an error means Redis could not be reached (a 503), rather than a bug (a 500). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const messages = [error.message, error.cause instanceof Error ? error.cause.message : ""];
  return messages.some((message) => UNAVAILABLE_MESSAGES.some((known) => message.includes(known)));
}
