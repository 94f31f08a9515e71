import type { Cluster, Redis } from "ioredis";

/**
 * Every write that must happen whole, and every compare-and-set, is one Lua script: Redis runs
 * a script without running anything else in between. Scripts only read fields from stored JSON
 * (cjson would re-encode an empty array as an object); they never rewrite it. `now` comes from
 * the injected clock, so a record past its time is ignored even before Redis's own TTL removes
 * it. A stored value a script cannot read is reported as an error, never treated as absent.
 *
 * On a Redis Cluster a script may only touch keys in one hash slot, so every script here takes
 * either one key or keys of one person (redis.keys.ts tags those with the person's id). Where a
 * store operation spans slots, redis.store.ts runs it as steps and says why that is safe there.
 *
 * A user-code index entry is "<retainUntil>:<loginId>": the script that guards a code's
 * uniqueness can tell whether its holder is still alive without touching a key it was not given.
 */
const SCRIPTS = {
  createAccountRecords: {
    keys: 3, // user, credential, userCredentials: one person's slot
    // ARGV: user JSON, credential body, counter, lastUsedAt, credential id
    lua: `
      redis.call('SET', KEYS[1], ARGV[1])
      redis.call('HSET', KEYS[2], 'body', ARGV[2], 'counter', ARGV[3], 'lastUsedAt', ARGV[4])
      redis.call('SADD', KEYS[3], ARGV[5])
      return 1`,
  },
  addCredentialRecords: {
    keys: 2, // credential, userCredentials: one person's slot
    // ARGV: credential body, counter, lastUsedAt, credential id
    lua: `
      redis.call('HSET', KEYS[1], 'body', ARGV[1], 'counter', ARGV[2], 'lastUsedAt', ARGV[3])
      redis.call('SADD', KEYS[2], ARGV[4])
      return 1`,
  },
  removeCredential: {
    keys: 2, // credential, userCredentials: one person's slot
    // ARGV: credential id
    lua: `
      if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 'not_found' end
      if redis.call('SCARD', KEYS[2]) <= 1 then return 'last_credential' end
      redis.call('SREM', KEYS[2], ARGV[1])
      redis.call('DEL', KEYS[1])
      return 'removed'`,
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
  confirmClaim: {
    keys: 1, // a claimed index entry (username, credential owner)
    // ARGV: the value the claim was made with. Keeps it for good if it is still ours.
    lua: `
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
      redis.call('PERSIST', KEYS[1])
      return 1`,
  },
  releaseClaim: {
    keys: 1, // a claimed index entry (username, credential owner, user code)
    // ARGV: the value the claim was made with. Deletes it only if it is still ours.
    lua: `
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
      redis.call('DEL', KEYS[1])
      return 1`,
  },
  claimUserCode: {
    keys: 1, // loginByCode
    // ARGV: index entry, now, ttl ms. Takes the code unless a live request holds it.
    lua: `
      local holder = redis.call('GET', KEYS[1])
      if holder then
        local holderUntil = tonumber(string.match(holder, '^(%d+):') or '')
        if not holderUntil then return redis.error_reply('corrupt user-code index ' .. KEYS[1]) end
        if holderUntil > tonumber(ARGV[2]) then return 0 end
      end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
      return 1`,
  },
  createLoginRequest: {
    keys: 1, // login
    // ARGV: request JSON, now, ttl ms. Writes unless a live request has the id.
    lua: `
      local existing = redis.call('GET', KEYS[1])
      if existing and cjson.decode(existing).retainUntil > tonumber(ARGV[2]) then return 0 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
      return 1`,
  },
  compareAndSetLoginRequest: {
    keys: 1, // login
    // The one compare-and-set of a login request: every transition, the redeem included, runs it.
    // ARGV: next JSON, now, expectedVersion, next.version, ttl ms, next.retainUntil.
    // Returns 0 if someone else wrote first (or the request is gone), -1 if next.version is not
    // expectedVersion + 1, 1 if written, 2 if written and retainUntil moved (the user-code
    // index entry must follow it).
    lua: `
      local raw = redis.call('GET', KEYS[1])
      if not raw then return 0 end
      local current = cjson.decode(raw)
      local expected = tonumber(ARGV[3])
      if current.retainUntil <= tonumber(ARGV[2]) or current.version ~= expected then return 0 end
      if tonumber(ARGV[4]) ~= expected + 1 then return -1 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
      if current.retainUntil ~= tonumber(ARGV[6]) then return 2 end
      return 1`,
  },
  followUserCode: {
    keys: 1, // loginByCode
    // ARGV: login id, index entry, ttl ms. Moves the entry only while it still names that request.
    lua: `
      local holder = redis.call('GET', KEYS[1])
      if not holder or string.match(holder, '^%d+:(.*)$') ~= ARGV[1] then return 0 end
      redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
      return 1`,
  },
  indexSession: {
    keys: 1, // userSessions
    // ARGV: token hash, ttl ms. The index lives as long as its longest-lived session (PTTL is -1
    // on a new set).
    lua: `
      redis.call('SADD', KEYS[1], ARGV[1])
      if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
      return 1`,
  },
  replaceSession: {
    keys: 1, // session
    // ARGV: the JSON read, the JSON to write, ttl ms. A compare-and-set on the whole value: it
    // writes only if nobody changed or deleted the session since it was read (so an ended
    // session is never brought back). Returns 1 if written, 0 if not.
    lua: `
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
      redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
      return 1`,
  },
  joinCeremonyGroup: {
    keys: 1, // ceremonyGroup
    // ARGV: now, maxLive, ceremony id, expiresAt, ttl ms. Returns 1 if it joined, 0 if full.
    lua: `
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
      if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
      redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
      if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
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
  extendPushPause: {
    keys: 1, // pushPause
    // ARGV: until, ttl ms. A pause only ever grows, even when two reports race.
    lua: `
      local current = tonumber(redis.call('GET', KEYS[1]) or '0')
      if not current then return redis.error_reply('corrupt push pause ' .. KEYS[1]) end
      if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
      return 1`,
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
 * again when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH). On a Cluster client it
 * sends each to the node that holds its first key's slot.
 */
export function defineScripts(redis: Redis | Cluster): Scripts {
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
