import type { Cluster, Redis } from "ioredis";
import { z } from "zod";
import type { Clock } from "../clock.js";
import { defineScripts } from "../store/redis.scripts.js";
import { parseStored, validateStored } from "../store/store.schemas.js";
import type { OidcIndex, OidcListedRecord, OidcPayload, OidcRecord, OidcStorage } from "./oidc.adapter.js";

/**
 * A record: a hash { payload (the JSON as given, never re-encoded), retainUntil (ms on the
 * injected clock; absent: kept until destroyed), consumedAt (seconds), uid, userCode, grantId,
 * accountId (the index values it was written with) }. Each script takes that one key, so it runs
 * on a Redis Cluster as it is. `now` is the injected clock's: Redis's TTL only frees the memory.
 */
const SCRIPTS = {
  /**
   * ARGV: payload, ttl ms ('' for none), retainUntil, consumedAt, uid, userCode, grantId,
   * accountId ('' for none), now. Replaces the record whole but keeps the consumedAt of a live
   * one. Returns the replaced record's uid, userCode, grantId and accountId ('' where none), so
   * their entries can follow.
   */
  upsert: `
    local old = redis.call('HMGET', KEYS[1], 'retainUntil', 'consumedAt', 'uid', 'userCode', 'grantId', 'accountId')
    local oldUntil = tonumber(old[1] or '')
    if (old[1] and not oldUntil) or (old[2] and not tonumber(old[2])) then
      return redis.error_reply('corrupt oidc record ' .. KEYS[1])
    end
    local consumedAt = ARGV[4]
    if old[2] and (not oldUntil or oldUntil > tonumber(ARGV[9])) then consumedAt = old[2] end
    redis.call('DEL', KEYS[1])
    local fields = { 'payload', ARGV[1] }
    local optional = {
      retainUntil = ARGV[3], consumedAt = consumedAt, uid = ARGV[5], userCode = ARGV[6], grantId = ARGV[7],
      accountId = ARGV[8],
    }
    for name, value in pairs(optional) do
      if value ~= '' then
        fields[#fields + 1] = name
        fields[#fields + 1] = value
      end
    end
    redis.call('HSET', KEYS[1], unpack(fields))
    if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return { old[3] or '', old[4] or '', old[5] or '', old[6] or '' }`,
  /** ARGV: consumedAt, now. The one place a record is consumed: first caller wins. */
  consume: `
    if redis.call('EXISTS', KEYS[1]) == 0 then return 'not_found' end
    local record = redis.call('HMGET', KEYS[1], 'payload', 'retainUntil', 'consumedAt')
    local retainUntil = tonumber(record[2] or '')
    if not record[1] or (record[2] and not retainUntil) then
      return redis.error_reply('corrupt oidc record ' .. KEYS[1])
    end
    if retainUntil and retainUntil <= tonumber(ARGV[2]) then return 'not_found' end
    if record[3] then return 'already_consumed' end
    redis.call('HSET', KEYS[1], 'consumedAt', ARGV[1])
    return 'consumed'`,
  /** Deletes the record; returns its uid, userCode, grantId and accountId ('' where none). */
  take: `
    local record = redis.call('HMGET', KEYS[1], 'uid', 'userCode', 'grantId', 'accountId')
    redis.call('DEL', KEYS[1])
    return { record[1] or '', record[2] or '', record[3] or '', record[4] or '' }`,
  /**
   * ARGV: grantId. Deletes the record only if it still belongs to that grant; returns its uid,
   * userCode and accountId ('' where none), or nil if it was not deleted.
   */
  revoke: `
    local record = redis.call('HMGET', KEYS[1], 'uid', 'userCode', 'grantId', 'accountId')
    if record[3] ~= ARGV[1] then return nil end
    redis.call('DEL', KEYS[1])
    return { record[1] or '', record[2] or '', record[4] or '' }`,
  /**
   * KEYS[1]: a sorted set of records (a grant's "<model>:<id>", an account's ids of one model)
   * scored by retainUntil ('+inf': kept until destroyed). ARGV: member, score, now. Drops members
   * whose time is up, so the set of a grant refreshed for months stays the size of its live
   * tokens, and lives as long as its last one.
   */
  addMember: `
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
    local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    if last[2] == 'inf' then
      redis.call('PERSIST', KEYS[1])
    else
      local ttl = math.max(1, tonumber(last[2]) - tonumber(ARGV[3]))
      redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
    end
    return 1`,
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** Characters that would make the prefix a SCAN pattern, or put a hash tag in it. */
const UNSAFE_PREFIX_CHARACTERS = /[*?[\]\\{}]/;

const storedNumber = z
  .string()
  .regex(/^\d+$/)
  .transform((text) => Number(text));

/** Fields every record has, and the hash that would not parse as one is corrupt, never absent. */
const storedRecordSchema = z.strictObject({
  payload: z.string(),
  retainUntil: storedNumber.optional(),
  consumedAt: storedNumber.optional(),
  uid: z.string().optional(),
  userCode: z.string().optional(),
  grantId: z.string().optional(),
  accountId: z.string().optional(),
});

/** Checks without copying: a copy would drop an own "__proto__" key the library keeps. */
const payloadSchema = z.custom<OidcPayload>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "the payload is not a JSON object",
);

/**
 * oidc-provider's storage in Redis, shared by every process, on one Redis or a Cluster.
 *
 * Keys, all under `<keyPrefix>oidc:` (no other part of Countersign uses that segment):
 * - `record:<model>:<id>`: the record (see SCRIPTS), with a TTL of its ttl;
 * - `uid:<model>:<uid>` and `user-code:<model>:<userCode>`: the id of the record, same TTL;
 * - `grant:<grantId>`: sorted set of the grant's "<model>:<id>", TTL of its longest-lived;
 * - `account:<model>:<accountId>`: sorted set of the ids of the account's records of that model
 *   (Grants), scored by retainUntil, TTL of its longest-lived.
 * Model names are letters only, so no id can reach another model's or kind's keys. No key has
 * a hash tag: each command or script touches one key, so any slot will do.
 *
 * Atomic where it must be: writing, consuming, destroying and revoking a record are each one
 * script on its key. What spans keys (the index entries, the grant's and account's sets) runs as
 * steps, each safe to interrupt, which each method explains. An index entry (or set member) is
 * only a hint: a lookup follows it to the record and checks the record still has that value, so
 * an entry left behind reads as absent. Values read back are validated: corrupt data throws.
 */
export function createRedisOidcStorage(options: {
  /** The caller's client; it stays open. The scripts are registered on it as commands. */
  redis: Redis | Cluster;
  /** Decides when a record's time is up; Redis's TTLs only free the memory. */
  clock: Clock;
  /** Plain text every key starts with, e.g. "countersign:"; no braces or SCAN wildcards. */
  keyPrefix: string;
}): OidcStorage {
  const { redis, clock, keyPrefix } = options;
  if (keyPrefix === "" || UNSAFE_PREFIX_CHARACTERS.test(keyPrefix)) {
    throw new Error(`keyPrefix must be non-empty text without * ? [ ] \\ { }, got ${JSON.stringify(keyPrefix)}`);
  }
  const run = defineOidcScripts(redis);
  // The store's releaseClaim deletes an index entry only if it still names the given id. (This
  // registers the store's other scripts too, as the store does on the same client: harmless.)
  const { releaseClaim } = defineScripts(redis);

  const base = `${keyPrefix}oidc:`;
  const modelSegment = (model: string): string => {
    if (!/^[A-Za-z]+$/.test(model)) throw new TypeError(`A model name is letters only, got ${JSON.stringify(model)}`);
    return model;
  };
  const keys = {
    record: (model: string, id: string): string => `${base}record:${modelSegment(model)}:${id}`,
    index: (model: string, index: OidcIndex, value: string): string =>
      `${base}${index === "uid" ? "uid" : "user-code"}:${modelSegment(model)}:${value}`,
    grant: (grantId: string): string => `${base}grant:${grantId}`,
    account: (model: string, accountId: string): string => `${base}account:${modelSegment(model)}:${accountId}`,
  };

  async function readRecord(model: string, id: string): Promise<(OidcRecord & { fields: StoredFields }) | null> {
    const key = keys.record(model, id);
    const hash = await redis.hgetall(key);
    if (Object.keys(hash).length === 0) return null;
    const fields = validateStored(storedRecordSchema, hash, `OpenID record ${key}`);
    if (fields.retainUntil !== undefined && fields.retainUntil <= clock.now()) return null;
    const payload = parseStored(payloadSchema, fields.payload, `OpenID record ${key}`);
    return { payload, consumedAt: fields.consumedAt ?? null, fields };
  }

  /** Removes index entries that still name `id` (a newer record may have taken the value). */
  async function releaseIndexes(model: string, id: string, values: { uid: string; userCode: string }): Promise<void> {
    await Promise.all([
      values.uid === "" ? null : releaseClaim([keys.index(model, "uid", values.uid)], [id]),
      values.userCode === "" ? null : releaseClaim([keys.index(model, "userCode", values.userCode)], [id]),
    ]);
  }

  return {
    async upsert(write) {
      const { model, id } = write;
      const now = clock.now();
      const ttlMs = write.ttlMs === null ? null : Math.max(1, write.ttlMs);
      const retainUntil = ttlMs === null ? null : now + ttlMs;
      const member = `${model}:${id}`;
      const score = retainUntil === null ? "+inf" : String(retainUntil);
      // Steps, in this order: the grant's and account's sets and the index entries first, so that
      // once the record exists it can be revoked, listed and found. Interrupted before the record
      // is written, they name a record that is absent (or has other values) and read as absent.
      await Promise.all([
        write.grantId === null ? null : run("addMember", keys.grant(write.grantId), [member, score, String(now)]),
        write.accountId === null
          ? null
          : run("addMember", keys.account(model, write.accountId), [id, score, String(now)]),
        ...(["uid", "userCode"] as const).map((index) => {
          const value = write[index];
          if (value === null) return null;
          const key = keys.index(model, index, value);
          return ttlMs === null ? redis.set(key, id) : redis.set(key, id, "PX", ttlMs);
        }),
      ]);
      const replaced = await run("upsert", keys.record(model, id), [
        JSON.stringify(write.payload),
        ttlMs === null ? "" : String(ttlMs),
        retainUntil === null ? "" : String(retainUntil),
        write.consumedAt === null ? "" : String(write.consumedAt),
        write.uid ?? "",
        write.userCode ?? "",
        write.grantId ?? "",
        write.accountId ?? "",
        String(now),
      ]);
      const [oldUid = "", oldUserCode = "", oldGrantId = "", oldAccountId = ""] = stringsOf(replaced, {
        script: "upsert",
        count: 4,
      });
      // Then what the replaced record had and this one has not. Left undone, they are stale
      // hints: an index entry that reads as absent, a member that revoke or a listing skips.
      await Promise.all([
        releaseIndexes(model, id, {
          uid: oldUid === (write.uid ?? "") ? "" : oldUid,
          userCode: oldUserCode === (write.userCode ?? "") ? "" : oldUserCode,
        }),
        oldGrantId === "" || oldGrantId === write.grantId ? null : redis.zrem(keys.grant(oldGrantId), member),
        oldAccountId === "" || oldAccountId === write.accountId
          ? null
          : redis.zrem(keys.account(model, oldAccountId), id),
      ]);
    },

    async find({ model, id }) {
      const record = await readRecord(model, id);
      return record === null ? null : { payload: record.payload, consumedAt: record.consumedAt };
    },

    async findByIndex({ model, index, value }) {
      const id = await redis.get(keys.index(model, index, value));
      if (id === null) return null;
      const record = await readRecord(model, id);
      if (record === null || record.fields[index] !== value) return null;
      return { payload: record.payload, consumedAt: record.consumedAt };
    },

    async consume({ model, id, at }) {
      const outcome = await run("consume", keys.record(model, id), [String(at), String(clock.now())]);
      if (outcome !== "consumed" && outcome !== "already_consumed" && outcome !== "not_found") {
        throw new Error(`The consume script answered ${JSON.stringify(outcome)}`);
      }
      return outcome;
    },

    async destroy({ model, id }) {
      // The record goes first, in one script: from then on it reads as absent whatever happens
      // to its index entries and grant membership, which follow.
      const taken = await run("take", keys.record(model, id), []);
      const [uid = "", userCode = "", grantId = "", accountId = ""] = stringsOf(taken, { script: "take", count: 4 });
      await Promise.all([
        releaseIndexes(model, id, { uid, userCode }),
        grantId === "" ? null : redis.zrem(keys.grant(grantId), `${model}:${id}`),
        accountId === "" ? null : redis.zrem(keys.account(model, accountId), id),
      ]);
    },

    async revokeByGrantId(grantId) {
      // Steps: read the members, delete each record that still belongs to this grant (one script
      // per record), then remove the members whose record was deleted. A member whose record is
      // absent stays: it may be a token being written right now (upsert adds the member before
      // the record), which the next revoke then finds; otherwise its score lets it be pruned.
      // Such a token can outlive this revoke by a moment. The library destroys the Grant itself
      // in the same revocation and checks the Grant wherever a token is used, so it is refused.
      const grantKey = keys.grant(grantId);
      const members = await redis.zrange(grantKey, "0", "-1");
      const revoked = await Promise.all(
        members.map(async (member) => {
          const separator = member.indexOf(":");
          const model = member.slice(0, separator);
          const id = member.slice(separator + 1);
          const reply = await run("revoke", keys.record(model, id), [grantId]);
          if (reply === null) return null;
          const [uid = "", userCode = "", accountId = ""] = stringsOf(reply, { script: "revoke", count: 3 });
          await Promise.all([
            releaseIndexes(model, id, { uid, userCode }),
            accountId === "" ? null : redis.zrem(keys.account(model, accountId), id),
          ]);
          return member;
        }),
      );
      const done = revoked.filter((member) => member !== null);
      if (done.length > 0) await redis.zrem(grantKey, ...done);
    },

    async listByAccount({ model, accountId }) {
      // The members whose score (retainUntil) is still ahead; expired ones are pruned by the next
      // write to the set, or go with it. Each is followed to its record, which must still be live
      // and this account's: a member left by an interrupted step reads as absent, as an index
      // entry does, and stays until its score passes or the record is destroyed.
      const ids = await redis.zrangebyscore(keys.account(model, accountId), `(${clock.now()}`, "+inf");
      const found = await Promise.all(
        ids.map(async (id): Promise<OidcListedRecord | null> => {
          const record = await readRecord(model, id);
          if (record === null || record.fields.accountId !== accountId) return null;
          return { id, payload: record.payload, consumedAt: record.consumedAt };
        }),
      );
      return found.filter((record) => record !== null);
    },
  };
}

type StoredFields = z.infer<typeof storedRecordSchema>;

function stringsOf(reply: unknown, expected: { script: ScriptName; count: number }): string[] {
  if (!Array.isArray(reply) || reply.length !== expected.count || !reply.every((item) => typeof item === "string")) {
    throw new Error(
      `The ${expected.script} script answered ${JSON.stringify(reply)}, expected ${expected.count} strings`,
    );
  }
  return reply as string[];
}

/**
 * Registers the scripts as commands: ioredis runs them by EVALSHA, loads them again after a
 * NOSCRIPT, and on a Cluster sends each to the node holding its one key.
 */
function defineOidcScripts(
  redis: Redis | Cluster,
): (name: ScriptName, key: string, args: string[]) => Promise<unknown> {
  const commands = new Map<ScriptName, (...args: string[]) => Promise<unknown>>();
  for (const [name, lua] of Object.entries(SCRIPTS) as [ScriptName, string][]) {
    const command = `countersign_oidc_${name}`;
    redis.defineCommand(command, { numberOfKeys: 1, lua });
    // defineCommand adds the method at run time; ioredis cannot type it.
    const method = (redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[command];
    if (method === undefined) throw new Error(`ioredis did not define the command ${command}`);
    commands.set(name, method);
  }
  return (name, key, args) => commands.get(name)!.call(redis, key, ...args);
}
