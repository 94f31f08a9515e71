/**
 * Every Redis key Countersign's store uses, under one prefix (STYLE §8), so one Redis can serve
 * several deployments and `SCAN MATCH <prefix>*` finds all of a deployment's data. Each kind
 * has its own fixed segment right after the prefix, so no id can reach another kind's keys.
 * Usernames arrive normalised and are used byte for byte (UTF-8), so "zoë" and "zoe" differ.
 */
export interface RedisKeys {
  /** JSON UserRecord; never expires. */
  user(id: string): string;
  /** The id of the user holding a username; never expires. */
  username(username: string): string;
  /** Hash: body (JSON, all but the two fields below), counter, lastUsedAt; never expires. */
  credential(id: string): string;
  /** Set of a user's credential ids; never expires. */
  userCredentials(userId: string): string;
  /** JSON CeremonyRecord; TTL until its expiresAt. */
  ceremony(id: string): string;
  /** JSON LoginRequestRecord; TTL until its retainUntil. */
  login(id: string): string;
  /** "<retainUntil>:<loginId>"; TTL until that retainUntil. */
  loginByCode(userCode: string): string;
  /** JSON SessionRecord; TTL until its expiresAt. */
  session(tokenHash: string): string;
  /**
   * Set of a user's session token hashes; TTL until its longest-lived session ends. Entries of
   * sessions that ended earlier are pruned when listed.
   */
  userSessions(userId: string): string;
  /** List of JSON ActivityRecord, newest first, capped at ACTIVITY_LIMIT; never expires. */
  activity(userId: string): string;
  /** Sorted set of ceremony ids scored by expiresAt: a group's cap (ceremonies per login request). */
  ceremonyGroup(group: string): string;
  /**
   * Hash: requesting source → "<until>:<1 delivered | 0 held back>:<loginId>", the user's
   * pending push request from each source; TTL until the latest of them lapses.
   */
  pendingPushes(userId: string): string;
  /** The time (ms) until which pushes to the user are paused; TTL until then. */
  pushPause(userId: string): string;
  /** The key every process derives QR tokens from (base64url); set once, never expires. */
  qrTokenKey(): string;
  /** Prefix of the Socket.IO Redis adapter's pub/sub channels. */
  socketChannel(): string;
  /** Prefix of the rate limiters' counters (rate-limiter-flexible adds action and client). */
  rateLimit(action: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    user: (id) => `${prefix}user:${id}`,
    username: (username) => `${prefix}username:${username}`,
    credential: (id) => `${prefix}credential:${id}`,
    userCredentials: (userId) => `${prefix}user-credentials:${userId}`,
    ceremony: (id) => `${prefix}ceremony:${id}`,
    login: (id) => `${prefix}login:${id}`,
    loginByCode: (userCode) => `${prefix}login-code:${userCode}`,
    session: (tokenHash) => `${prefix}session:${tokenHash}`,
    userSessions: (userId) => `${prefix}user-sessions:${userId}`,
    activity: (userId) => `${prefix}activity:${userId}`,
    ceremonyGroup: (group) => `${prefix}ceremony-group:${group}`,
    // A new name: the old "pending-push:" keys held a plain string, not a hash.
    pendingPushes: (userId) => `${prefix}pending-pushes:${userId}`,
    pushPause: (userId) => `${prefix}push-pause:${userId}`,
    qrTokenKey: () => `${prefix}qr-token-key`,
    socketChannel: () => `${prefix}socket.io`,
    rateLimit: (action) => `${prefix}ratelimit:${action}`,
  };
}
