import type { Redis } from "ioredis";
import type { Clock } from "../clock.js";
import { redisKeys } from "./redis.keys.js";
import { defineScripts } from "./redis.scripts.js";
import {
  activityRecordSchema,
  ceremonyRecordSchema,
  credentialBodySchema,
  credentialFieldsSchema,
  loginRequestRecordSchema,
  parseStored,
  sessionRecordSchema,
  userRecordSchema,
  validateStored,
} from "./store.schemas.js";
import {
  ACTIVITY_LIMIT,
  type CredentialRecord,
  type LoginRequestRecord,
  type SessionRecord,
  type Store,
  type UserRecord,
} from "./store.js";

/** Characters that would make the prefix a pattern in SCAN MATCH instead of plain text. */
const GLOB_CHARACTERS = /[*?[\]\\]/;

/**
 * The shared store (DESIGN §4): nothing lives in this process, so any number of server
 * processes can serve one deployment.
 *
 * - Keys: all under `keyPrefix` (default "countersign:"), built in redis.keys.ts.
 * - Atomicity: every multi-key write and every compare-and-set is one Lua script
 *   (redis.scripts.ts); single-use takes are GETDEL (Redis 6.2 or newer).
 * - Time: records carry absolute times from the injected clock, and a record past its time reads
 *   as absent by that clock, in reads here and in scripts (which get `now` as an argument).
 *   Every expiring key also gets a Redis TTL, so Redis frees it by itself. Users, credentials
 *   and activity never expire (activity is capped at ACTIVITY_LIMIT instead).
 * - Reads: every value is validated with zod; a corrupted value throws "Corrupt … in the store"
 *   rather than reading as null or as half a record.
 *
 * The caller owns the ioredis client: close() leaves it open. Not for Redis Cluster: a script's
 * keys do not share a hash slot.
 */
export function createRedisStore(options: { redis: Redis; clock: Clock; keyPrefix?: string }): Store {
  const { redis, clock } = options;
  const keyPrefix = options.keyPrefix ?? "countersign:";
  if (keyPrefix === "" || GLOB_CHARACTERS.test(keyPrefix)) {
    throw new Error(`keyPrefix must be non-empty plain text without * ? [ ] \\, got ${JSON.stringify(keyPrefix)}`);
  }
  const keys = redisKeys(keyPrefix);
  const scripts = defineScripts(redis);

  /** A Redis TTL for a record that lapses at `until` (at least 1 ms: Redis refuses 0 or less). */
  const ttlUntil = (until: number): number => Math.max(1, Math.ceil(until - clock.now()));
  /** The user-code index entry: when its holder lapses, and which request holds the code. */
  const codeHolder = (request: LoginRequestRecord): string => `${Math.ceil(request.retainUntil)}:${request.id}`;

  const readUser = async (id: string): Promise<UserRecord | null> => {
    const raw = await redis.get(keys.user(id));
    return raw === null ? null : parseStored(userRecordSchema, raw, "user");
  };

  const readLogin = async (id: string): Promise<LoginRequestRecord | null> => {
    const raw = await redis.get(keys.login(id));
    if (raw === null) return null;
    const request = parseStored(loginRequestRecordSchema, raw, "login request");
    return request.retainUntil > clock.now() ? request : null;
  };

  /** A pending push entry is "<until>:<1 if delivered, else 0>:<loginId>". */
  const pendingPushEntry = (entry: { until: number; delivered: boolean; loginRequestId: string }): string =>
    `${entry.until}:${entry.delivered ? 1 : 0}:${entry.loginRequestId}`;
  const livePendingPush = (raw: string): { delivered: boolean; loginRequestId: string } | null => {
    const match = /^(\d+):([01]):(.+)$/.exec(raw);
    if (match === null) throw new Error(`Corrupt pending push entry in the store: ${JSON.stringify(raw)}`);
    if (Number(match[1]) <= clock.now()) return null;
    return { delivered: match[2] === "1", loginRequestId: match[3]! };
  };

  const liveSession = (raw: string | null): SessionRecord | null => {
    if (raw === null) return null;
    const session = parseStored(sessionRecordSchema, raw, "session");
    return session.expiresAt > clock.now() ? session : null;
  };

  /** A credential is a hash, so scripts can move its counter without re-encoding its JSON. */
  const credentialFrom = (fields: Record<string, string>): CredentialRecord | null => {
    if (Object.keys(fields).length === 0) return null;
    const { body, counter, lastUsedAt } = validateStored(credentialFieldsSchema, fields, "credential");
    return { ...parseStored(credentialBodySchema, body, "credential"), counter, lastUsedAt };
  };

  const credentialFields = (credential: CredentialRecord): [body: string, counter: number, lastUsedAt: string] => {
    const { counter, lastUsedAt, ...body } = credential;
    return [JSON.stringify(body), counter, lastUsedAt === null ? "" : String(lastUsedAt)];
  };

  /** Runs a compare-and-set script's answer past the same checks, in the same order, as memory. */
  const casResult = (result: unknown, attempt: { expectedVersion: number; next: LoginRequestRecord }): boolean => {
    if (result === -1) {
      throw new Error(
        `next.version must be expectedVersion + 1 (${attempt.expectedVersion + 1}), got ${attempt.next.version}`,
      );
    }
    return result === 1;
  };

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
    getUser: readUser,
    async findUserByUsername(username) {
      const id = await redis.get(keys.username(username));
      // An unknown name costs the same two round trips as a known one: push sign-in must not
      // tell them apart by its response time. (No user id is empty, so this key never exists.)
      return readUser(id ?? "");
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
      // A set has no order; the id breaks ties so the order is stable.
      return credentials.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async removeCredential({ userId, credentialId }) {
      const result = await scripts.removeCredential(
        [keys.credential(credentialId), keys.userCredentials(userId)],
        [credentialId],
      );
      return result as "removed" | "last_credential" | "not_found";
    },
    async advanceCredentialCounter({ id, counter, usedAt }) {
      const result = await scripts.advanceCredentialCounter([keys.credential(id)], [counter, usedAt]);
      return result as "advanced" | "replayed" | "not_found";
    },

    async putCeremony(ceremony) {
      await redis.set(keys.ceremony(ceremony.id), JSON.stringify(ceremony), "PX", ttlUntil(ceremony.expiresAt));
    },
    async putCeremonyInGroup({ ceremony, group, maxLive }) {
      const stored = await scripts.putCeremonyInGroup(
        [keys.ceremony(ceremony.id), keys.ceremonyGroup(group)],
        [JSON.stringify(ceremony), ttlUntil(ceremony.expiresAt), clock.now(), maxLive, ceremony.id, ceremony.expiresAt],
      );
      return stored === 1 ? "stored" : "group_full";
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
        [JSON.stringify(request), clock.now(), ttlUntil(request.retainUntil), codeHolder(request)],
      );
      return created === 1 ? "created" : "conflict";
    },
    getLoginRequest: readLogin,
    async findLoginRequestByUserCode(userCode) {
      const holder = await redis.get(keys.loginByCode(userCode));
      if (holder === null) return null;
      const request = await readLogin(holder.slice(holder.indexOf(":") + 1));
      // The index may still name a request that has since lapsed and been replaced under its id.
      return request?.userCode === userCode ? request : null;
    },
    async compareAndSetLoginRequest({ expectedVersion, next }) {
      const result = await scripts.compareAndSetLoginRequest(
        [keys.login(next.id), keys.loginByCode(next.userCode)],
        [
          JSON.stringify(next),
          clock.now(),
          expectedVersion,
          next.version,
          ttlUntil(next.retainUntil),
          codeHolder(next),
          next.id,
        ],
      );
      return casResult(result, { expectedVersion, next });
    },
    async redeemLoginRequest({ expectedVersion, next, session }) {
      const result = await scripts.redeemLoginRequest(
        [
          keys.login(next.id),
          keys.loginByCode(next.userCode),
          keys.session(session.tokenHash),
          keys.userSessions(session.userId),
        ],
        [
          JSON.stringify(next),
          clock.now(),
          expectedVersion,
          next.version,
          ttlUntil(next.retainUntil),
          codeHolder(next),
          next.id,
          JSON.stringify(session),
          ttlUntil(session.expiresAt),
          session.tokenHash,
        ],
      );
      return casResult(result, { expectedVersion, next });
    },

    async createSession(session) {
      await scripts.createSession(
        [keys.session(session.tokenHash), keys.userSessions(session.userId)],
        [JSON.stringify(session), ttlUntil(session.expiresAt), session.tokenHash],
      );
    },
    async getSession(tokenHash) {
      return liveSession(await redis.get(keys.session(tokenHash)));
    },
    async deleteSession(tokenHash) {
      const session = liveSession(await redis.getdel(keys.session(tokenHash)));
      if (session !== null) await redis.srem(keys.userSessions(session.userId), tokenHash);
      return session;
    },
    async listSessions(userId) {
      const hashes = await redis.smembers(keys.userSessions(userId));
      if (hashes.length === 0) return [];
      const raws = await redis.mget(hashes.map((hash) => keys.session(hash)));
      const sessions: SessionRecord[] = [];
      const ended: string[] = [];
      raws.forEach((raw, index) => {
        const session = liveSession(raw);
        if (session === null) ended.push(hashes[index]!);
        else sessions.push(session);
      });
      // Sessions end by TTL without telling anyone; their index entries go here.
      if (ended.length > 0) await redis.srem(keys.userSessions(userId), ...ended);
      return sessions.sort((a, b) => a.createdAt - b.createdAt);
    },

    async swapPendingPush({ userId, source, loginRequestId, until, delivered }) {
      const previous = await scripts.swapPendingPush(
        [keys.pendingPushes(userId)],
        [source, pendingPushEntry({ until, delivered, loginRequestId }), clock.now(), ttlUntil(until)],
      );
      return typeof previous === "string" ? (livePendingPush(previous)?.loginRequestId ?? null) : null;
    },
    async listPendingPushes(userId) {
      const entries = Object.values(await redis.hgetall(keys.pendingPushes(userId))).map(livePendingPush);
      return entries.filter((entry) => entry?.delivered === true).map((entry) => entry!.loginRequestId);
    },
    async pausePushes({ userId, until }) {
      const current = Number((await redis.get(keys.pushPause(userId))) ?? 0);
      if (until > current) await redis.set(keys.pushPause(userId), String(until), "PX", ttlUntil(until));
    },
    async pushesPausedUntil(userId) {
      const raw = await redis.get(keys.pushPause(userId));
      const until = raw === null ? null : Number(raw);
      return until !== null && until > clock.now() ? until : null;
    },

    async appendActivity({ userId, event }) {
      await scripts.appendActivity([keys.activity(userId)], [JSON.stringify(event), ACTIVITY_LIMIT]);
    },
    async listActivity(userId) {
      const raws = await redis.lrange(keys.activity(userId), 0, -1);
      return raws.map((raw) => parseStored(activityRecordSchema, raw, "activity event"));
    },

    async close() {
      // The client belongs to whoever created it (main.ts closes it after the app).
    },
  };
}
