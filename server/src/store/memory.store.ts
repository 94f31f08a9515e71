import type { Clock, TimerHandle } from "../clock.js";
import {
  ACTIVITY_LIMIT,
  type ActivityRecord,
  type CeremonyRecord,
  type CredentialRecord,
  type LoginRequestRecord,
  type SessionRecord,
  type Store,
  type UserRecord,
} from "./store.js";

const SWEEP_INTERVAL_MS = 60_000;

/**
 * The embedded store: everything in this process's memory, lost on restart. JavaScript runs
 * one synchronous block at a time, so each method below is atomic as long as it does not await
 * between its read and its write. Records are copied in and out so no caller can change
 * stored state by mutating an object it holds.
 *
 * A little over our ~250-line rule: one method per Store method, mirroring redis.store.ts, so
 * the two read side by side.
 */
export function createMemoryStore(options: { clock: Clock }): Store {
  const { clock } = options;
  const users = new Map<string, UserRecord>();
  const userIdsByName = new Map<string, string>();
  const credentials = new Map<string, CredentialRecord>();
  const ceremonies = new Map<string, CeremonyRecord>();
  const logins = new Map<string, LoginRequestRecord>();
  const loginIdsByCode = new Map<string, string>();
  const sessions = new Map<string, SessionRecord>();
  const activity = new Map<string, ActivityRecord[]>();
  /** Per user: something that lapses at `until` (the pending push, the push pause). */
  const pendingPushes = new Map<string, Map<string, { id: string; until: number; delivered: boolean }>>();
  /** Per ceremony group: the ids of its ceremonies and when each lapses. */
  const ceremonyGroups = new Map<string, Map<string, number>>();
  const pushPauses = new Map<string, number>();

  const copy = copyRecord;

  function liveCeremony(id: string): CeremonyRecord | undefined {
    const ceremony = ceremonies.get(id);
    if (ceremony !== undefined && clock.now() >= ceremony.expiresAt) {
      ceremonies.delete(id);
      return undefined;
    }
    return ceremony;
  }

  function liveLogin(id: string): LoginRequestRecord | undefined {
    const login = logins.get(id);
    if (login !== undefined && clock.now() >= login.retainUntil) {
      logins.delete(id);
      if (loginIdsByCode.get(login.userCode) === id) loginIdsByCode.delete(login.userCode);
      return undefined;
    }
    return login;
  }

  /**
   * The one compare-and-set of a login request: writes `next` if the live stored version is
   * `expectedVersion`. Synchronous, so a caller that writes more right after it (the redeem)
   * stays one atomic step.
   */
  function casLogin(attempt: { expectedVersion: number; next: LoginRequestRecord }): boolean {
    const { expectedVersion, next } = attempt;
    const current = liveLogin(next.id);
    if (current === undefined || current.version !== expectedVersion) return false;
    if (next.version !== expectedVersion + 1) {
      throw new Error(`next.version must be expectedVersion + 1 (${expectedVersion + 1}), got ${next.version}`);
    }
    logins.set(next.id, copy(next));
    return true;
  }

  function liveSession(tokenHash: string): SessionRecord | undefined {
    const session = sessions.get(tokenHash);
    if (session !== undefined && clock.now() >= session.expiresAt) {
      sessions.delete(tokenHash);
      return undefined;
    }
    return session;
  }

  /** The group's members that have not lapsed; lapsed ones are dropped on the way. */
  function liveGroup(group: string): Map<string, number> {
    const members = ceremonyGroups.get(group) ?? new Map<string, number>();
    for (const [id, expiresAt] of members) if (clock.now() >= expiresAt) members.delete(id);
    if (members.size === 0) ceremonyGroups.delete(group);
    return members;
  }

  /** The user's pending pushes that have not lapsed; lapsed ones are dropped on the way. */
  function livePushes(userId: string): Map<string, { id: string; until: number; delivered: boolean }> {
    const pending = pendingPushes.get(userId) ?? new Map<string, { id: string; until: number; delivered: boolean }>();
    for (const [source, entry] of pending) if (entry.until <= clock.now()) pending.delete(source);
    if (pending.size === 0) pendingPushes.delete(userId);
    return pending;
  }

  function sweep(): void {
    for (const id of ceremonies.keys()) liveCeremony(id);
    for (const group of ceremonyGroups.keys()) liveGroup(group);
    for (const userId of pendingPushes.keys()) livePushes(userId);
    for (const id of logins.keys()) liveLogin(id);
    for (const hash of sessions.keys()) liveSession(hash);
  }

  let sweeper: TimerHandle | null = null;
  const scheduleSweep = (): void => {
    sweeper = clock.schedule(() => {
      sweep();
      scheduleSweep();
    }, SWEEP_INTERVAL_MS);
  };
  scheduleSweep();

  return {
    async createUserWithCredential({ user, credential }) {
      if (userIdsByName.has(user.username)) return "username_taken";
      if (credentials.has(credential.id)) return "credential_taken";
      users.set(user.id, copy(user));
      userIdsByName.set(user.username, user.id);
      credentials.set(credential.id, copy(credential));
      return "created";
    },
    async getUser(id) {
      const user = users.get(id);
      return user === undefined ? null : copy(user);
    },
    async findUserByUsername(username) {
      const id = userIdsByName.get(username);
      const user = id === undefined ? undefined : users.get(id);
      return user === undefined ? null : copy(user);
    },

    async addCredential(credential) {
      if (credentials.has(credential.id)) return "credential_taken";
      credentials.set(credential.id, copy(credential));
      return "added";
    },
    async getCredential(id) {
      const credential = credentials.get(id);
      return credential === undefined ? null : copy(credential);
    },
    async listCredentials(userId) {
      return [...credentials.values()]
        .filter((credential) => credential.userId === userId)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((credential) => copy(credential));
    },
    async removeCredential({ userId, credentialId }) {
      const credential = credentials.get(credentialId);
      if (credential === undefined || credential.userId !== userId) return "not_found";
      const owned = [...credentials.values()].filter((item) => item.userId === userId).length;
      if (owned <= 1) return "last_credential";
      credentials.delete(credentialId);
      return "removed";
    },
    async advanceCredentialCounter({ id, counter, usedAt }) {
      const credential = credentials.get(id);
      if (credential === undefined) return "not_found";
      const counterless = counter === 0 && credential.counter === 0;
      if (counter <= credential.counter && !counterless) return "replayed";
      credential.counter = counter;
      credential.lastUsedAt = Math.max(credential.lastUsedAt ?? 0, usedAt);
      return "advanced";
    },

    async putCeremony(ceremony) {
      ceremonies.set(ceremony.id, copy(ceremony));
    },
    async putCeremonyInGroup({ ceremony, group, maxLive }) {
      const members = liveGroup(group);
      if (members.size >= maxLive) return "group_full";
      members.set(ceremony.id, ceremony.expiresAt);
      ceremonyGroups.set(group, members);
      ceremonies.set(ceremony.id, copy(ceremony));
      return "stored";
    },
    async takeCeremony(id) {
      const ceremony = liveCeremony(id);
      ceremonies.delete(id);
      return ceremony === undefined ? null : ceremony;
    },

    async createLoginRequest(request) {
      if (liveLogin(request.id) !== undefined) return "conflict";
      const holder = loginIdsByCode.get(request.userCode);
      if (holder !== undefined && liveLogin(holder) !== undefined) return "conflict";
      logins.set(request.id, copy(request));
      loginIdsByCode.set(request.userCode, request.id);
      return "created";
    },
    async getLoginRequest(id) {
      const login = liveLogin(id);
      return login === undefined ? null : copy(login);
    },
    async findLoginRequestByUserCode(userCode) {
      const id = loginIdsByCode.get(userCode);
      const login = id === undefined ? undefined : liveLogin(id);
      return login === undefined ? null : copy(login);
    },
    async compareAndSetLoginRequest(attempt) {
      return casLogin(attempt);
    },
    async redeemLoginRequest({ expectedVersion, next, session }) {
      // Nothing awaits in between: the compare-and-set and the session are one step.
      if (!casLogin({ expectedVersion, next })) return false;
      sessions.set(session.tokenHash, copy(session));
      return true;
    },

    async createSession(session) {
      sessions.set(session.tokenHash, copy(session));
    },
    async getSession(tokenHash) {
      const session = liveSession(tokenHash);
      return session === undefined ? null : copy(session);
    },
    async deleteSession(tokenHash) {
      const session = liveSession(tokenHash);
      sessions.delete(tokenHash);
      return session === undefined ? null : session;
    },

    async listSessions(userId) {
      return [...sessions.keys()]
        .map((hash) => liveSession(hash))
        .filter((session): session is SessionRecord => session !== undefined && session.userId === userId)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((session) => copy(session));
    },
    async touchSession({ tokenHash, lastSeenAt, expiresAt }) {
      const session = liveSession(tokenHash);
      if (session === undefined) return null;
      session.lastSeenAt = Math.max(session.lastSeenAt, lastSeenAt);
      session.expiresAt = Math.max(session.expiresAt, expiresAt);
      return copy(session);
    },
    async setSessionPushSubscription({ tokenHash, subscription, ifEndpoint }) {
      const session = liveSession(tokenHash);
      if (session === undefined) return null;
      if (ifEndpoint === undefined || session.pushSubscription?.endpoint === ifEndpoint) {
        session.pushSubscription = subscription === null ? null : copy(subscription);
      }
      return copy(session);
    },

    async swapPendingPush({ userId, source, loginRequestId, until, delivered }) {
      const pending = livePushes(userId);
      const previous = pending.get(source);
      pending.set(source, { id: loginRequestId, until, delivered });
      pendingPushes.set(userId, pending);
      return previous === undefined ? null : previous.id;
    },
    async listPendingPushes(userId) {
      return [...livePushes(userId).values()].filter((entry) => entry.delivered).map((entry) => entry.id);
    },
    async pausePushes({ userId, until }) {
      pushPauses.set(userId, Math.max(until, pushPauses.get(userId) ?? 0));
    },
    async pushesPausedUntil(userId) {
      const until = pushPauses.get(userId);
      return until !== undefined && until > clock.now() ? until : null;
    },

    async appendActivity({ userId, event }) {
      const events = activity.get(userId) ?? [];
      events.unshift(copy(event));
      if (events.length > ACTIVITY_LIMIT) events.length = ACTIVITY_LIMIT;
      activity.set(userId, events);
    },
    async listActivity(userId) {
      return (activity.get(userId) ?? []).map((event) => copy(event));
    },

    async close() {
      sweeper?.cancel();
    },
  };
}

/**
 * A deep copy of a stored record. Records are plain data (objects, arrays, strings, numbers,
 * booleans, null), which is all this copies; structuredClone handles every type and costs
 * several times more on every read.
 */
function copyRecord<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(copyRecord) as T;
  const copied: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = copyRecord((value as Record<string, unknown>)[key]);
    // Assigning "__proto__" would set the prototype instead of copying the field.
    if (key === "__proto__") Object.defineProperty(copied, key, { value: field, enumerable: true, writable: true });
    else copied[key] = field;
  }
  return copied as T;
}
