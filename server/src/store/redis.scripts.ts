import type { Redis } from "ioredis";

/**
 * Every write that must happen whole is one Lua script: Redis runs a script without running
 * anything else in between. Scripts only read fields from stored JSON (cjson would re-encode
 * empty arrays as objects); they never rewrite it. `now` comes from the injected clock, so a
 * record past its time is ignored even before Redis's own TTL removes it.
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
  recordCredentialUse: {
    keys: 1, // credential
    lua: `
      if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
      local counter = tonumber(redis.call('HGET', KEYS[1], 'counter')) or 0
      if tonumber(ARGV[1]) > counter then redis.call('HSET', KEYS[1], 'counter', ARGV[1]) end
      local last = tonumber(redis.call('HGET', KEYS[1], 'lastUsedAt') or '') or 0
      if tonumber(ARGV[2]) > last then redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[2]) end
      return 1`,
  },
  createLoginRequest: {
    keys: 2, // login, loginByCode
    lua: `
      local now = tonumber(ARGV[2])
      local existing = redis.call('GET', KEYS[1])
      if existing and cjson.decode(existing).retainUntil > now then return 0 end
      local holder = redis.call('GET', KEYS[2])
      if holder and tonumber(string.match(holder, '^(%d+):')) > now then return 0 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
      redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
      return 1`,
  },
  compareAndSetLoginRequest: {
    keys: 1, // login
    lua: `
      local raw = redis.call('GET', KEYS[1])
      if not raw then return 0 end
      local current = cjson.decode(raw)
      if current.retainUntil <= tonumber(ARGV[2]) or current.version ~= tonumber(ARGV[3]) then return 0 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
      return 1`,
  },
  redeemLoginRequest: {
    keys: 2, // login, session
    lua: `
      local raw = redis.call('GET', KEYS[1])
      if not raw then return 0 end
      local current = cjson.decode(raw)
      if current.retainUntil <= tonumber(ARGV[2]) or current.version ~= tonumber(ARGV[3]) then return 0 end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
      redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
      return 1`,
  },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type Scripts = Record<ScriptName, (keys: string[], args: (string | number)[]) => Promise<unknown>>;

/** Registers the scripts on the client (EVALSHA, loading them again after a Redis restart). */
export function defineScripts(redis: Redis): Scripts {
  const scripts = {} as Scripts;
  for (const [name, script] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    const command = `countersign_${name}`;
    redis.defineCommand(command, { numberOfKeys: script.keys, lua: script.lua });
    const run = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[command]!;
    scripts[name] = (keys, args) => {
      if (keys.length !== script.keys) throw new Error(`${name} takes ${script.keys} keys, got ${keys.length}`);
      return run.call(redis, ...keys, ...args);
    };
  }
  return scripts;
}
