import { Cluster, Redis, ReplyError, type ClusterOptions } from "ioredis";

/** How long a command may wait for Redis's answer before it fails (REDIS_COMMAND_TIMEOUT_MS). */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1_000;

/** Where a deployment's Redis is: one server (REDIS_URL), or a Cluster's seed nodes (REDIS_CLUSTER_NODES). */
export type RedisConnection = { url: string } | { clusterNodes: { host: string; port: number }[] };

/** A connection to either. */
export type RedisClient = Redis | Cluster;

/** Slots in a Redis Cluster (CLUSTER KEYSLOT is CRC16 mod 16384). */
const CLUSTER_SLOTS = 16_384;

/** Back off up to 1 s between attempts, forever: a Redis restart must not need ours. */
const retryDelay = (attempt: number): number => Math.min(50 * 2 ** attempt, 1_000);

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
 *
 * Commands issued in the same tick go out as one pipeline (auto-pipelining): a sign-in's reads
 * and writes from many requests at once cost one socket write instead of one each, and every
 * command still gets its own answer, error and deadline.
 */
export function createRedisClient(options: { url: string; name: string; commandTimeoutMs?: number }): Redis {
  return new Redis(options.url, {
    connectionName: `countersign:${options.name}`,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: retryDelay,
    lazyConnect: true,
  });
}

/**
 * The same for a Redis Cluster, from any of its nodes: the client learns the others and which
 * slots each holds, and sends every command to the node holding its key's slot.
 * `subscriber` makes a client for sharded pub/sub (SSUBSCRIBE, Redis 7): one subscription
 * connection per master, and SSUBSCRIBE queued until connected and sent again after a failover.
 * No request waits on that client, so it has no command deadline (see redis.deployment.ts).
 */
export function createRedisClusterClient(options: {
  nodes: { host: string; port: number }[];
  name: string;
  commandTimeoutMs?: number;
  /** Default "commands". */
  role?: "commands" | "subscriber";
}): Cluster {
  const subscriber = options.role === "subscriber";
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: subscriber,
    // No auto-pipelining (unlike createRedisClient): while a master fails over, ioredis's
    // auto-pipelines pass a MOVED reply on as an error instead of following it, so an outage
    // would read as a bug (500) rather than as unavailable (503).
    shardedSubscribers: subscriber,
    clusterRetryStrategy: retryDelay,
    lazyConnect: true,
    redisOptions: {
      connectionName: `countersign:${options.name}`,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: subscriber ? undefined : (options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS),
    },
  };
  return new Cluster(options.nodes, clusterOptions);
}

/**
 * Whether an error means Redis could not be reached (a 503), rather than a bug (a 500).
 *
 * With `client`, its state counts too: while a connection the client needs is not up (see
 * connectionsUp), a plain Error is the outage's. That is what ioredis rejects with when it
 * cannot send ("Stream isn't writeable", "Connection is closed", "Cluster isn't ready"), with no
 * name or code of its own; a TypeError or RangeError from a bug stays a bug. Without `client`, or
 * while it is up, only the error says.
 */
export function isRedisUnavailable(error: unknown, options: { client?: RedisClient } = {}): boolean {
  if (!(error instanceof Error)) return false;
  if (isUnavailableError(error) || (error.cause instanceof Error && isUnavailableError(error.cause))) return true;
  return (
    options.client !== undefined && Object.getPrototypeOf(error) === Error.prototype && !connectionsUp(options.client)
  );
}

/** ioredis's own error classes (not exported from its index) for a command it gave up on. */
const UNAVAILABLE_NAMES = new Set([
  // The connection dropped and the retry it allows per command was used up.
  "MaxRetriesPerRequestError",
  // Its connection closed while the command was waiting for the answer (from redis-errors).
  "AbortError",
  // No node of the Cluster could tell which node holds which slot.
  "ClusterAllFailedError",
]);

/** Socket errors, by their Node error code. */
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Redis's own answers that mean "not now": still loading its data set, a Cluster without all its
 * slots, a slot moving, a master gone. A RESP error starts with its code; ioredis keeps it only
 * there, at the start of the message.
 */
const UNAVAILABLE_REPLIES = new Set(["LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN"]);

/**
 * The only errors told by their text: ioredis rejects with a plain Error, no name or code, and
 * its connection stays "ready" (ioredis 6: Command.setTimeout, Cluster#handleError).
 */
const UNAVAILABLE_MESSAGES = [
  // commandTimeout ran out: Redis is hanging, overloaded or cut off without a reset.
  "Command timed out",
  // A Cluster kept redirecting the command (slots moving during a failover or resharding).
  "Too many Cluster redirections",
  // The socket closed under a command sent in the same tick: the client's status still reads
  // "ready" until its close event has run, so the state alone misses these two.
  "Stream isn't writeable",
  "Connection is closed",
];

function isUnavailableError(error: Error): boolean {
  if (UNAVAILABLE_NAMES.has(error.name)) return true;
  if (error instanceof ReplyError) return UNAVAILABLE_REPLIES.has(error.message.split(" ", 1)[0] ?? "");
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === "string" && UNAVAILABLE_CODES.has(code)) return true;
  return UNAVAILABLE_MESSAGES.some((known) => error.message.startsWith(known));
}

/**
 * Whether every connection the client needs is up. One Redis: its status is "ready". A Cluster:
 * its own status is "ready", and every slot has a master whose connection is "ready" (or "wait":
 * ioredis opens a node's connection on its first command). A master that dropped out leaves its
 * slots without one.
 */
export function connectionsUp(client: RedisClient): boolean {
  if (!(client instanceof Cluster)) return client.status === "ready";
  if (client.status !== "ready") return false;
  const up = new Set(
    client
      .nodes("master")
      .filter((node) => node.status === "ready" || node.status === "wait")
      .map((node) => `${node.options.host}:${node.options.port}`),
  );
  for (let slot = 0; slot < CLUSTER_SLOTS; slot += 1) {
    const owner = client.slots[slot]?.[0];
    if (owner === undefined || !up.has(owner)) return false;
  }
  return true;
}
