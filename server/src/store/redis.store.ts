import type { Redis } from "ioredis";
import type { Clock } from "../clock.js";
import { redisKeys } from "./redis.keys.js";
import { defineScripts } from "./redis.scripts.js";
import {
  activityRecordSchema,
  ceremonyRecordSchema,
  credentialBodySchema,
  loginRequestRecordSchema,
  parseStored,
  sessionRecordSchema,
  userRecordSchema,
} from "./store.schemas.js";
import { ACTIVITY_LIMIT, type CredentialRecord, type LoginRequestRecord, type Store } from "./store.js";

/**
 * The shared store (DESIGN §4): nothing lives in this process, so any number of server
 * processes can serve one deployment. Multi-key writes and compare-and-sets are Lua scripts;
 * single-key reads and single-use takes (GETDEL) are atomic by themselves. Expiring records get
 * a Redis TTL so Redis frees them, and reads also honour the injected clock. Not for Redis
 * Cluster: a script's keys are not in one hash slot.
 *
 * The caller owns the ioredis client; close() leaves it open.
 */
export function createRedisStore(options: { redis: Redis; clock: Clock; keyPrefix?: string }): Store {
  const { redis, clock } = options;
  const keys = redisKeys(options.keyPrefix ?? "countersign:");
  const scripts = defineScripts(redis);
  /** A Redis TTL for a record that lapses at `until` (never 0 or negative: Redis refuses those). */
  const ttlUntil = (until: number): number => Math.max(1, Math.ceil(until - clock.now()));

  async function readLogin(id: string): Promise<LoginRequestRecord | null> {
    const raw = await redis.get(keys.login(id));
    if (raw === null) return null;
    const request = parseStored(loginRequestRecordSchema, raw, "login request");
    return request.retainUntil > clock.now() ? request : null;
  }

  function credentialFrom(fields: Record<string, string>): CredentialRecord | null {
    if (fields.body === undefined) return null;
    const body = parseStored(credentialBodySchema, fields.body, "credential");
    return {
      ...body,
      counter: Number(fields.counter ?? 0),
      lastUsedAt: fields.lastUsedAt === undefined || fields.lastUsedAt === "" ? null : Number(fields.lastUsedAt),
    };
  }

  const credentialFields = (credential: CredentialRecord): [string, number, string] => {
    const { counter, lastUsedAt, ...body } = credential;
    return [JSON.stringify(body), counter, lastUsedAt === null ? "" : String(lastUsedAt)];
  };

  function assertNextVersion(expectedVersion: number, next: LoginRequestRecord): void {
    if (next.version !== expectedVersion + 1) throw new Error("next.version must be expectedVersion + 1");
  }

  return {
    async createUserWithCredential({ user, credential }) {
      const [body, counter, lastUsedAt] = credentialFields(credential);
      const result = await scripts.createUserWithCredential(
        [
          keys.username(user.username),
          keys.user(user.id),
          keys.credential(credential.id),
          keys.userCredentials(user.id),
        ],
        [user.id, JSON.stringify(user), body, counter, lastUsedAt, credential.id],
      );
      return result as "created" | "username_taken" | "credential_taken";
    },
    async getUser(id) {
      const raw = await redis.get(keys.user(id));
      return raw === null ? null : parseStored(userRecordSchema, raw, "user");
    },
    async findUserByUsername(username) {
      const id = await redis.get(keys.username(username));
      if (id === null) return null;
      const raw = await redis.get(keys.user(id));
      return raw === null ? null : parseStored(userRecordSchema, raw, "user");
    },

    async addCredential(credential) {
      const [body, counter, lastUsedAt] = credentialFields(credential);
      const result = await scripts.addCredential(
        [keys.credential(credential.id), keys.userCredentials(credential.userId)],
        [body, counter, lastUsedAt, credential.id],
      );
      return result as "added" | "credential_taken";
    },
    async getCredential(id) {
      return credentialFrom(await redis.hgetall(keys.credential(id)));
    },
    async listCredentials(userId) {
      const ids = await redis.smembers(keys.userCredentials(userId));
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetall(keys.credential(id));
      const results = (await pipeline.exec()) ?? [];
      const credentials: CredentialRecord[] = [];
      for (const [error, fields] of results) {
        if (error !== null) throw error;
        const credential = credentialFrom(fields as Record<string, string>);
        if (credential !== null) credentials.push(credential);
      }
      return credentials.sort((a, b) => a.createdAt - b.createdAt);
    },
    async recordCredentialUse({ id, counter, usedAt }) {
      await scripts.recordCredentialUse([keys.credential(id)], [counter, usedAt]);
    },

    async putCeremony(ceremony) {
      await redis.set(keys.ceremony(ceremony.id), JSON.stringify(ceremony), "PX", ttlUntil(ceremony.expiresAt));
    },
    async takeCeremony(id) {
      const raw = await redis.getdel(keys.ceremony(id));
      if (raw === null) return null;
      const ceremony = parseStored(ceremonyRecordSchema, raw, "ceremony");
      return ceremony.expiresAt > clock.now() ? ceremony : null;
    },

    async createLoginRequest(request) {
      const created = await scripts.createLoginRequest(
        [keys.login(request.id), keys.loginByCode(request.userCode)],
        [JSON.stringify(request), clock.now(), ttlUntil(request.retainUntil), `${request.retainUntil}:${request.id}`],
      );
      return created === 1 ? "created" : "conflict";
    },
    getLoginRequest: readLogin,
    async findLoginRequestByUserCode(userCode) {
      const holder = await redis.get(keys.loginByCode(userCode));
      const id = holder?.slice(holder.indexOf(":") + 1);
      if (id === undefined) return null;
      const request = await readLogin(id);
      return request?.userCode === userCode ? request : null;
    },
    async compareAndSetLoginRequest({ expectedVersion, next }) {
      assertNextVersion(expectedVersion, next);
      const written = await scripts.compareAndSetLoginRequest(
        [keys.login(next.id)],
        [JSON.stringify(next), clock.now(), expectedVersion, ttlUntil(next.retainUntil)],
      );
      return written === 1;
    },
    async redeemLoginRequest({ expectedVersion, next, session }) {
      assertNextVersion(expectedVersion, next);
      const written = await scripts.redeemLoginRequest(
        [keys.login(next.id), keys.session(session.tokenHash)],
        [
          JSON.stringify(next),
          clock.now(),
          expectedVersion,
          ttlUntil(next.retainUntil),
          JSON.stringify(session),
          ttlUntil(session.expiresAt),
        ],
      );
      return written === 1;
    },

    async createSession(session) {
      await redis.set(keys.session(session.tokenHash), JSON.stringify(session), "PX", ttlUntil(session.expiresAt));
    },
    async getSession(tokenHash) {
      const raw = await redis.get(keys.session(tokenHash));
      if (raw === null) return null;
      const session = parseStored(sessionRecordSchema, raw, "session");
      return session.expiresAt > clock.now() ? session : null;
    },
    async deleteSession(tokenHash) {
      const raw = await redis.getdel(keys.session(tokenHash));
      if (raw === null) return null;
      const session = parseStored(sessionRecordSchema, raw, "session");
      return session.expiresAt > clock.now() ? session : null;
    },

    async appendActivity({ userId, event }) {
      const key = keys.activity(userId);
      const results = await redis
        .multi()
        .lpush(key, JSON.stringify(event))
        .ltrim(key, 0, ACTIVITY_LIMIT - 1)
        .exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed !== undefined) throw failed[0];
    },
    async listActivity(userId) {
      const raws = await redis.lrange(keys.activity(userId), 0, -1);
      return raws.map((raw) => parseStored(activityRecordSchema, raw, "activity event"));
    },

    async close() {
      // The client belongs to whoever created it.
    },
  };
}
