import type { Redis } from "ioredis";

/**
 * Every write that must happen whole, and every compare-and-set, is one Lua script: Redis runs
 * a script without running anything else in between. Scripts only read fields from stored JSON
 * (cjson would re-encode an empty array as an object); they never rewrite it. `now` comes from
 * the injected clock, so a record past its time is ignored even before Redis's own TTL removes
 * it. A stored value a script cannot read is reported as an error, never treated as absent.
 *
 * A user-code index entry is "<retainUntil>:<loginId>": the script that guards a code's
 * uniqueness can tell whether its holder is still alive without touching a key it was not given.
 */
const SCRIPTS = {
  createUserWithCredential: {
    keys: 4, // username, user, credential, userCredentials
    lua: `
      if redis.call('EXISTS', KEYS[1]) == 1 then return 'username_taken' end
      if redis.call('EXISTS', KEYS[3]) == 1 then return 'credential_taken' end
      redis.call('SET', KEYS[1], ARGV[1])
      redis.call('SET', KEYS[2], ARGV[2])
      redis.call('HSET', KEYS[3], 'body', ARGV[3], 'counter', ARGV[4], 'lastUsedAt', ARGV[5])
      redis.call('SADD', KEYS[4], ARGV[6])
      return 'created'`,
  },
  addCredential: {
    keys: 2, // credential, userCredentials
    lua: `
      if redis.call('EXISTS', KEYS[1]) == 1 then return 'credential_taken' end
      redis.call('HSET', KEYS[1], 'body', ARGV[1], 'counter', ARGV[2], 'lastUsedAt', ARGV[3])
      redis.call('SADD', KEYS[2], ARGV[4])
      return 'added'`,
  },
  advanceCredentialCounter: {
    keys: 1, // credential
    // ARGV: asserted counter, usedAt. Both counters 0 is an authenticator without one (WebAuthn §6.1.1).
    lua: `
      if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
      local counter = tonumber(redis.call('HGET', KEYS[1], 'counter') or '')
      local lastRaw = redis.call('HGET', KEYS[1], 'lastUsedAt') or ''
      local last = 0
      if lastRaw ~= '' then last = tonumber(lastRaw) end
      if not counter or not last then return redis.error_reply('corrupt credential ' .. KEYS[1]) end
      local asserted = tonumber(ARGV[1])
      if asserted <= counter and not (asserted == 0 and counter == 0) then return 'replayed' end
      if asserted > counter then redis.call('HSET', KEYS[1], 'counter', ARGV[1]) end
      if tonumber(ARGV[2]) > last then redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[2]) end
      return 'advanced'`,
  },
  createLoginRequest: {
    keys: 2, // login, loginByCode
    lua: `
      local now = tonumber(ARGV[2])
      local existing = redis.call('GET', KEYS[1])
      if existing and cjson.decode(existing).retainUntil > now then return 0 end
      local holder = redis.call('GET', KEYS[2])
      if holder then
        local holderUntil = tonumber(string.match(holder, '^(%d+):') or '')
        if not holderUntil then return redis.error_reply('corrupt user-code index ' .. KEYS[2]) end
        if holderUntil > now then return 0 end
      end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
      redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
      return 1`,
  },
  compareAndSetLoginRequest: {
    keys: 2, // login, loginByCode
    // ARGV: next JSON, now, expectedVersion, next.version, ttl ms, index entry, login id
    lua: `
      local raw = redis.call('GET', KEYS[1])
      if not raw then return 0 end
      local current = cjson.decode(raw)
      local expected = tonumber(ARGV[3])
      if current.retainUntil <= tonumber(ARGV[2]) or current.version ~= expected then return 0 end
      if tonumber(ARGV[4]) ~= expected + 1 then return -1 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
      local holder = redis.call('GET', KEYS[2])
      if holder and string.match(holder, '^%d+:(.*)$') == ARGV[7] then
        redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[5])
      end
      return 1`,
  },
  redeemLoginRequest: {
    keys: 4, // login, loginByCode, session, userSessions
    // ARGV: as compareAndSetLoginRequest, then session JSON, session ttl ms, session token hash
    lua: `
      local raw = redis.call('GET', KEYS[1])
      if not raw then return 0 end
      local current = cjson.decode(raw)
      local expected = tonumber(ARGV[3])
      if current.retainUntil <= tonumber(ARGV[2]) or current.version ~= expected then return 0 end
      if tonumber(ARGV[4]) ~= expected + 1 then return -1 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
      local holder = redis.call('GET', KEYS[2])
      if holder and string.match(holder, '^%d+:(.*)$') == ARGV[7] then
        redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[5])
      end
      redis.call('SET', KEYS[3], ARGV[8], 'PX', ARGV[9])
      redis.call('SADD', KEYS[4], ARGV[10])
      -- The index lives as long as its longest-lived session (PTTL is -1 on a new set).
      if redis.call('PTTL', KEYS[4]) < tonumber(ARGV[9]) then redis.call('PEXPIRE', KEYS[4], ARGV[9]) end
      return 1`,
  },
  removeCredential: {
    keys: 2, // credential, userCredentials
    // ARGV: credential id
    lua: `
      if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 'not_found' end
      if redis.call('SCARD', KEYS[2]) <= 1 then return 'last_credential' end
      redis.call('SREM', KEYS[2], ARGV[1])
      redis.call('DEL', KEYS[1])
      return 'removed'`,
  },
  createSession: {
    keys: 2, // session, userSessions
    // ARGV: session JSON, ttl ms, token hash
    lua: `
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      redis.call('SADD', KEYS[2], ARGV[3])
      if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
      return 1`,
  },
  putCeremonyInGroup: {
    keys: 2, // ceremony, ceremonyGroup
    // ARGV: ceremony JSON, ttl ms, now, maxLive, ceremony id, expiresAt
    lua: `
      redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
      if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
      redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
      return 1`,
  },
  swapPendingPush: {
    keys: 1, // pendingPushes
    // ARGV: source, "<until>:<loginId>", now, ttl ms. Returns the live entry it replaced, or nil.
    lua: `
      local now = tonumber(ARGV[3])
      local previous = redis.call('HGET', KEYS[1], ARGV[1])
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
      local fields = redis.call('HGETALL', KEYS[1])
      for i = 1, #fields, 2 do
        local untilAt = tonumber(string.match(fields[i + 1], '^(%d+):') or '')
        if not untilAt then return redis.error_reply('corrupt pending push ' .. KEYS[1]) end
        if untilAt <= now then redis.call('HDEL', KEYS[1], fields[i]) end
      end
      if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
      return previous`,
  },
  appendActivity: {
    keys: 1, // activity
    lua: `
      redis.call('LPUSH', KEYS[1], ARGV[1])
      redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
      return 1`,
  },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type Scripts = Record<ScriptName, (keys: string[], args: (string | number)[]) => Promise<unknown>>;

/**
 * Registers the scripts on the client as commands: ioredis runs them by EVALSHA and loads them
 * again when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 */
export function defineScripts(redis: Redis): Scripts {
  const scripts = {} as Scripts;
  for (const [name, script] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    const command = `countersign_${name}`;
    redis.defineCommand(command, { numberOfKeys: script.keys, lua: script.lua });
    // defineCommand adds the method at run time; ioredis cannot type it.
    const run = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[command];
    if (run === undefined) throw new Error(`ioredis did not define the command ${command}`);
    scripts[name] = (keys, args) => {
      if (keys.length !== script.keys) throw new Error(`${name} takes ${script.keys} keys, got ${keys.length}`);
      return run.call(redis, ...keys, ...args);
    };
  }
  return scripts;
}
