import { Redis, ReplyError } from "ioredis";

/** How long a command may wait for Redis's answer before it fails (REDIS_COMMAND_TIMEOUT_MS). */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1_000;

/**
 * A Redis connection for a server process. Commands fail at once while Redis is down instead of
 * queueing: a request must get a clear 503 now, not hang until Redis returns. The client keeps
 * reconnecting in the background, so the process recovers by itself.
 *
 * A Redis that hangs (frozen, swapping, stuck in a slow script) keeps the connection open and
 * sends no error, so every command also has a deadline: `commandTimeoutMs`, default
 * DEFAULT_REDIS_COMMAND_TIMEOUT_MS. It covers single commands, each command of a pipeline or
 * MULTI, and Lua scripts; the failed command's reply, if it ever comes, is matched to it and
 * dropped. A timed-out write may still be carried out once Redis resumes: a timeout means
 * "unknown", not "not done".
 */
export function createRedisClient(options: { url: string; name: string; commandTimeoutMs?: number }): Redis {
  return new Redis(options.url, {
    connectionName: `countersign:${options.name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    // Back off up to 1 s between attempts, forever: a Redis restart must not need ours.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    lazyConnect: true,
  });
}

/**
 * What ioredis rejects with when it cannot get an answer. It uses plain Errors for these, so
 * only their text tells them apart (ioredis 6: Command.setTimeout, Redis.sendCommand).
 */
const UNAVAILABLE_MESSAGES = [
  // commandTimeout ran out: Redis is hanging, overloaded or cut off without a reset.
  "Command timed out",
  // enableOfflineQueue is false and the connection is not up.
  "Stream isn't writeable",
  "Connection is closed",
  // rate-limiter-flexible (rejectIfRedisNotReady), when its Redis client is not connected.
  "Redis connection is not ready",
];

/** Socket errors, by their Node error code. */
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);

/** Whether an error means Redis could not be reached (a 503), rather than a bug (a 500). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return isUnavailableError(error) || (error.cause instanceof Error && isUnavailableError(error.cause));
}

function isUnavailableError(error: Error): boolean {
  // ioredis's own class (not exported from its index): the connection dropped and the retry
  // it allows per command was used up.
  if (error.name === "MaxRetriesPerRequestError") return true;
  // Redis is up but still loading its data set from disk.
  if (error instanceof ReplyError && error.message.startsWith("LOADING")) return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) return true;
  return UNAVAILABLE_MESSAGES.some((known) => error.message.includes(known));
}
