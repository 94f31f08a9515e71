import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../clock.js";
import { claimThenWrite } from "./redis.claims.js";
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

/** Characters that would make the prefix a SCAN pattern, or put a hash tag in it. */
const UNSAFE_PREFIX_CHARACTERS = /[*?[\]\\{}]/;

/**
 * The shared store (DESIGN §4): nothing lives in this process, so any number of server
 * processes can serve one deployment, on one Redis or a Redis Cluster.
 *
 * - Keys: all under `keyPrefix` (default "countersign:"), built in redis.keys.ts; a person's
 *   keys share a hash slot.
 * - Atomicity: every compare-and-set, and every write that must be whole, is one Lua script on
 *   one slot (redis.scripts.ts); single-use takes are GETDEL (Redis 6.2 or newer). An operation
 *   whose keys live in several slots runs as steps, ordered so that no half-done state can be
 *   used; each such method says why.
 * - Time: records carry absolute times from the injected clock, and a record past its time reads
 *   as absent by that clock, in reads here and in scripts (which get `now` as an argument).
 *   Every expiring key also gets a Redis TTL, so Redis frees it by itself. Users, credentials
 *   and activity never expire (activity is capped at ACTIVITY_LIMIT instead).
 * - Reads: every value is validated with zod; a corrupted value throws "Corrupt … in the store"
 *   rather than reading as null or as half a record.
 *
 * The caller owns the ioredis client (a Redis or a Cluster): close() leaves it open.
 *
 * Longer than our ~250-line rule, on purpose: it is one implementation of one interface, a
 * method per Store method, each next to its note on why it is safe; split by record kind it
 * would scatter those notes and the shared readers across files that only ever change together.
 */
export function createRedisStore(options: { redis: Redis | Cluster; clock: Clock; keyPrefix?: string }): Store {
  const { redis, clock } = options;
  const keyPrefix = options.keyPrefix ?? "countersign:";
  if (keyPrefix === "" || UNSAFE_PREFIX_CHARACTERS.test(keyPrefix)) {
    throw new Error(`keyPrefix must be non-empty text without * ? [ ] \\ { }, got ${JSON.stringify(keyPrefix)}`);
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

  /** The key of a passkey found by its id alone, through its owner entry; null if it has none. */
  const credentialKey = async (credentialId: string): Promise<string | null> => {
    const userId = await redis.get(keys.credentialOwner(credentialId));
    return userId === null ? null : keys.credential({ userId, credentialId });
  };

  /** A new session's index entry and record. Neither slot is the other's, so two writes. */
  const writeSession = async (session: SessionRecord): Promise<void> => {
    const ttl = ttlUntil(session.expiresAt);
    // Safe apart: the token reaches its holder only once both writes succeeded. An index entry
    // without a record is pruned when listed; a record without an index entry has no holder.
    await Promise.all([
      scripts.indexSession([keys.userSessions(session.userId)], [session.tokenHash, ttl]),
      redis.set(keys.session(session.tokenHash), JSON.stringify(session), "PX", ttl),
    ]);
  };
  /**
   * Changes a live session with a compare-and-set on its JSON, read again and retried when
   * someone else wrote in between; null if it has ended. `change` returns the session itself
   * when there is nothing to write.
   */
  const updateSession = async (
    tokenHash: string,
    change: (session: SessionRecord) => SessionRecord,
  ): Promise<SessionRecord | null> => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const raw = await redis.get(keys.session(tokenHash));
      const session = liveSession(raw);
      if (raw === null || session === null) return null;
      const next = change(session);
      if (next === session) return session;
      const ttl = ttlUntil(next.expiresAt);
      const written = await scripts.replaceSession([keys.session(tokenHash)], [raw, JSON.stringify(next), ttl]);
      if (written !== 1) continue;
      // The person's index must live as long as this session now does.
      if (next.expiresAt > session.expiresAt) {
        await scripts.indexSession([keys.userSessions(next.userId)], [tokenHash, ttl]);
      }
      return next;
    }
    throw new Error("A session kept changing while it was being updated.");
  };
  const forgetSession = async (session: SessionRecord): Promise<void> => {
    await Promise.all([
      redis.del(keys.session(session.tokenHash)),
      redis.srem(keys.userSessions(session.userId), session.tokenHash),
    ]);
  };

  /**
   * The one compare-and-set of a login request, as memory's casLogin: the script decides, on the
   * request's key alone. The user-code index entry lives in the code's slot and follows after,
   * only when retainUntil moved. Until it has, the code stays held to the old time, which the
   * script has just found still ahead, so no new request can take it in between; a crash in
   * between leaves it held to the old time only (lookups by code then end there).
   */
  const casLogin = async (attempt: { expectedVersion: number; next: LoginRequestRecord }): Promise<boolean> => {
    const { expectedVersion, next } = attempt;
    const ttl = ttlUntil(next.retainUntil);
    const result = await scripts.compareAndSetLoginRequest(
      [keys.login(next.id)],
      [JSON.stringify(next), clock.now(), expectedVersion, next.version, ttl, next.retainUntil],
    );
    if (result === -1) {
      throw new Error(`next.version must be expectedVersion + 1 (${expectedVersion + 1}), got ${next.version}`);
    }
    if (result === 2) await scripts.followUserCode([keys.loginByCode(next.userCode)], [next.id, codeHolder(next), ttl]);
    return result === 1 || result === 2;
  };

  return {
    async createUserWithCredential({ user, credential }) {
      const name = keys.username(user.username);
      const owner = keys.credentialOwner(credential.id);
      const [body, counter, lastUsedAt] = credentialFields(credential);
      // The name and the passkey id are claimed in their own slots; see claimThenWrite.
      const taken = await claimThenWrite({
        redis,
        scripts,
        keys: [name, owner],
        owner: user.id,
        write: () =>
          scripts.createAccountRecords(
            [
              keys.user(user.id),
              keys.credential({ userId: user.id, credentialId: credential.id }),
              keys.userCredentials(user.id),
            ],
            [JSON.stringify(user), body, counter, lastUsedAt, credential.id],
          ),
      });
      return taken === name ? "username_taken" : taken === owner ? "credential_taken" : "created";
    },
    getUser: readUser,
    async findUserByUsername(username) {
      const id = await redis.get(keys.username(username));
      // An unknown name costs the same two round trips as a known one: push sign-in must not
      // tell them apart by its response time. (No user id is empty, so this key never exists.)
      return readUser(id ?? "");
    },

    async addCredential(credential) {
      const { userId } = credential;
      const [body, counter, lastUsedAt] = credentialFields(credential);
      const taken = await claimThenWrite({
        redis,
        scripts,
        keys: [keys.credentialOwner(credential.id)],
        owner: userId,
        write: () =>
          scripts.addCredentialRecords(
            [keys.credential({ userId, credentialId: credential.id }), keys.userCredentials(userId)],
            [body, counter, lastUsedAt, credential.id],
          ),
      });
      return taken === null ? "added" : "credential_taken";
    },
    async getCredential(id) {
      const key = await credentialKey(id);
      return key === null ? null : credentialFrom(await redis.hgetall(key));
    },
    async listCredentials(userId) {
      const ids = await redis.smembers(keys.userCredentials(userId));
      if (ids.length === 0) return [];
      // One pipeline: every key is in the person's slot.
      const pipeline = redis.pipeline();
      for (const credentialId of ids) pipeline.hgetall(keys.credential({ userId, credentialId }));
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
        [keys.credential({ userId, credentialId }), keys.userCredentials(userId)],
        [credentialId],
      );
      // The owner entry goes after the records, in its own slot: until then it points to nothing,
      // which reads as absent, so the passkey is gone the moment the script ran.
      if (result === "removed") await scripts.releaseClaim([keys.credentialOwner(credentialId)], [userId]);
      return result as "removed" | "last_credential" | "not_found";
    },
    async advanceCredentialCounter({ id, counter, usedAt }) {
      const key = await credentialKey(id);
      if (key === null) return "not_found";
      const result = await scripts.advanceCredentialCounter([key], [counter, usedAt]);
      return result as "advanced" | "replayed" | "not_found";
    },

    async putCeremony(ceremony) {
      await redis.set(keys.ceremony(ceremony.id), JSON.stringify(ceremony), "PX", ttlUntil(ceremony.expiresAt));
    },
    async putCeremonyInGroup({ ceremony, group, maxLive }) {
      const ttl = ttlUntil(ceremony.expiresAt);
      // The cap is the group's alone, so the group's script enforces it whole; the ceremony (found
      // by its own id, in its own slot) is stored after. Should that write fail, its place stays
      // counted until it lapses: the cap errs towards refusing, and the caller gets the error.
      const joined = await scripts.joinCeremonyGroup(
        [keys.ceremonyGroup(group)],
        [clock.now(), maxLive, ceremony.id, ceremony.expiresAt, ttl],
      );
      if (joined !== 1) return "group_full";
      await redis.set(keys.ceremony(ceremony.id), JSON.stringify(ceremony), "PX", ttl);
      return "stored";
    },
    async takeCeremony(id) {
      const raw = await redis.getdel(keys.ceremony(id));
      if (raw === null) return null;
      const ceremony = parseStored(ceremonyRecordSchema, raw, "ceremony");
      return ceremony.expiresAt > clock.now() ? ceremony : null;
    },

    async createLoginRequest(request) {
      const code = keys.loginByCode(request.userCode);
      const holder = codeHolder(request);
      const ttl = ttlUntil(request.retainUntil);
      // The code first, then the id, each in its own slot. Between the two the code names a
      // request that does not exist yet, which reads as no request; a clash on the id gives the
      // code back.
      if ((await scripts.claimUserCode([code], [holder, clock.now(), ttl])) !== 1) return "conflict";
      let created: unknown;
      try {
        created = await scripts.createLoginRequest(
          [keys.login(request.id)],
          [JSON.stringify(request), clock.now(), ttl],
        );
      } catch (error) {
        await Promise.allSettled([scripts.releaseClaim([code], [holder])]);
        throw error;
      }
      if (created === 1) return "created";
      await scripts.releaseClaim([code], [holder]);
      return "conflict";
    },
    getLoginRequest: readLogin,
    async findLoginRequestByUserCode(userCode) {
      const holder = await redis.get(keys.loginByCode(userCode));
      if (holder === null) return null;
      const request = await readLogin(holder.slice(holder.indexOf(":") + 1));
      // The index may still name a request that has since lapsed and been replaced under its id.
      return request?.userCode === userCode ? request : null;
    },
    compareAndSetLoginRequest: casLogin,
    async redeemLoginRequest({ expectedVersion, next, session }) {
      // The session is written first, in its own slots, and the compare-and-set decides. A loser
      // removes its session again. Nobody holds a session's token until redeem returns true, so
      // a session left behind by a crash in between can never be used.
      await writeSession(session);
      let redeemed: boolean;
      try {
        redeemed = await casLogin({ expectedVersion, next });
      } catch (error) {
        await Promise.allSettled([forgetSession(session)]);
        throw error;
      }
      if (!redeemed) await forgetSession(session);
      return redeemed;
    },

    createSession: writeSession,
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
      // One GET each, not MGET: the sessions live in many slots.
      const raws = await Promise.all(hashes.map((hash) => redis.get(keys.session(hash))));
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
    async touchSession({ tokenHash, lastSeenAt, expiresAt }) {
      return updateSession(tokenHash, (session) =>
        lastSeenAt <= session.lastSeenAt && expiresAt <= session.expiresAt
          ? session
          : {
              ...session,
              lastSeenAt: Math.max(session.lastSeenAt, lastSeenAt),
              expiresAt: Math.max(session.expiresAt, expiresAt),
            },
      );
    },
    async setSessionPushSubscription({ tokenHash, subscription, ifEndpoint }) {
      return updateSession(tokenHash, (session) =>
        ifEndpoint !== undefined && session.pushSubscription?.endpoint !== ifEndpoint
          ? session
          : { ...session, pushSubscription: subscription },
      );
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
      await scripts.extendPushPause([keys.pushPause(userId)], [until, ttlUntil(until)]);
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
