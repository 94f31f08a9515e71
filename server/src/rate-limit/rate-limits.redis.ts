import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../clock.js";
import { DEFAULT_RATE_LIMITS, rateLimitsFrom, type RateLimitPolicies, type RateLimits } from "./rate-limits.js";

/** The command name the script is registered under on the caller's client. */
const TAKE_POINT_COMMAND = "countersign_takeRateLimitPoint";

/**
 * One key's window, as a hash { ends, spent }, changed only by this script so that two processes
 * can never both take the last point. KEYS[1]: the window. ARGV: now, points, window ms, and
 * now + window ms as text (Lua would print a large number in exponent notation). Returns 0 when
 * a point was taken, else the ms until the window ends. `now` is the injected clock's: the TTL
 * only lets Redis drop a window nobody asks about; whether one has ended is the clock's to say.
 */
const TAKE_POINT_LUA = `
  local now = tonumber(ARGV[1])
  local window = redis.call('HMGET', KEYS[1], 'ends', 'spent')
  if window[1] then
    local endsAt = tonumber(window[1])
    local spent = tonumber(window[2] or '')
    if not endsAt or not spent then return redis.error_reply('corrupt rate limit window ' .. KEYS[1]) end
    if endsAt > now then
      if spent >= tonumber(ARGV[2]) then return endsAt - now end
      redis.call('HINCRBY', KEYS[1], 'spent', 1)
      return 0
    end
  end
  redis.call('HSET', KEYS[1], 'ends', ARGV[4], 'spent', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 0`;

/** Characters that would make the prefix a SCAN pattern, or put a hash tag in it. */
const UNSAFE_PREFIX_CHARACTERS = /[*?[\]\\{}]/;

/**
 * Limits counted in Redis, shared by every process behind the load balancer, with every window
 * measured by the injected `clock` (see rateLimitsFrom for why no library does this). While Redis
 * is down a check fails with Redis's error (a 503), never silently allowing or denying.
 *
 * Keys: `<keyPrefix>rate-limit:{<action>:<client key>}`, a hash each. The script touches one key
 * per call, so it runs on a Redis Cluster as it is; the hash tag spreads clients over the slots
 * and keeps any key added to a window later in the same slot as the window.
 */
export function createRedisRateLimits(options: {
  /** The caller's client; it stays open. The script is registered on it as a command. */
  redis: Redis | Cluster;
  /** The time every window is measured by. */
  clock: Clock;
  /** Plain text every key starts with, e.g. "countersign:"; no braces or SCAN wildcards. */
  keyPrefix: string;
  /** Default DEFAULT_RATE_LIMITS. */
  policies?: RateLimitPolicies;
}): RateLimits {
  const { redis, keyPrefix } = options;
  if (keyPrefix === "" || UNSAFE_PREFIX_CHARACTERS.test(keyPrefix)) {
    throw new Error(`keyPrefix must be non-empty text without * ? [ ] \\ { }, got ${JSON.stringify(keyPrefix)}`);
  }
  redis.defineCommand(TAKE_POINT_COMMAND, { numberOfKeys: 1, lua: TAKE_POINT_LUA });
  // defineCommand adds the method at run time; ioredis cannot type it.
  const takePointCommand = (redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[
    TAKE_POINT_COMMAND
  ];
  if (takePointCommand === undefined) throw new Error(`ioredis did not define the command ${TAKE_POINT_COMMAND}`);

  return rateLimitsFrom({
    policies: options.policies ?? DEFAULT_RATE_LIMITS,
    clock: options.clock,
    takePoint: async ({ action, key, points, windowMs, now }) => {
      const reply = await takePointCommand.call(
        redis,
        `${keyPrefix}rate-limit:{${action}:${key}}`,
        String(now),
        String(points),
        String(windowMs),
        String(now + windowMs),
      );
      if (typeof reply !== "number" || !Number.isInteger(reply) || reply < 0) {
        throw new Error(`The rate limit script answered ${JSON.stringify(reply)}, expected an integer from 0`);
      }
      return reply === 0 ? null : reply;
    },
  });
}
