/**
 * Every Redis key Countersign's store uses, under one prefix (STYLE §8), so one Redis can serve
 * several deployments and `SCAN MATCH <prefix>*` finds all of a deployment's data. Each kind
 * has its own fixed segment right after the prefix, so no id can reach another kind's keys.
 * Usernames arrive normalised and are used byte for byte (UTF-8), so "zoë" and "zoe" differ.
 *
 * Redis Cluster runs a script, a MULTI or a pipeline only on keys in one hash slot, and a key's
 * slot comes from its hash tag (the text between its first "{" and the next "}") when it has
 * one. So the keys of one person that a script changes together carry the person's id as their
 * tag, `{<userId>}`, and land in one slot: the account, its passkeys and their list, the
 * sessions index, activity, pending pushes and the push pause. Everything else is found by its
 * own id (a session by its token hash, a login request by its id, a name, a user code, a
 * passkey's owner) and is only ever changed on its own, so it has no tag and spreads over the
 * slots. The prefix holds no braces (config.ts), so the tag is always ours. A tag split by a "}"
 * inside an id only puts that id's keys in another, still shared, slot.
 *
 * This layout replaced one without tags; there was no production data to migrate yet. A Redis
 * holding the old layout reads as empty.
 */
export interface RedisKeys {
  /** JSON UserRecord; never expires. */
  user(userId: string): string;
  /** The id of the user holding a username; never expires (a claim lapses if never confirmed). */
  username(username: string): string;
  /** Hash: body (JSON, all but the two fields below), counter, lastUsedAt; never expires. */
  credential(options: { userId: string; credentialId: string }): string;
  /** The id of the user a passkey belongs to, so it can be found by its id alone; as username. */
  credentialOwner(credentialId: string): string;
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
  /** The key every process derives QR tokens and pseudonyms from (base64url); set once. */
  sharedKey(): string;
  /**
   * A value every process must agree on (Deployment.claimShared), such as the OpenID signing
   * keys: written once by the first process, never expires. One key, so any slot will do.
   */
  shared(name: string): string;
  /** Prefix of the Socket.IO Redis adapter's pub/sub channels. */
  socketChannel(): string;
}

export function redisKeys(prefix: string): RedisKeys {
  /** A person's keys: one hash slot for everything a script changes about them together. */
  const personal = (kind: string, userId: string): string => `${prefix}${kind}:{${userId}}`;
  return {
    user: (userId) => personal("user", userId),
    username: (username) => `${prefix}username:${username}`,
    credential: ({ userId, credentialId }) => `${personal("credential", userId)}:${credentialId}`,
    credentialOwner: (credentialId) => `${prefix}credential-owner:${credentialId}`,
    userCredentials: (userId) => personal("user-credentials", userId),
    ceremony: (id) => `${prefix}ceremony:${id}`,
    login: (id) => `${prefix}login:${id}`,
    loginByCode: (userCode) => `${prefix}login-code:${userCode}`,
    session: (tokenHash) => `${prefix}session:${tokenHash}`,
    userSessions: (userId) => personal("user-sessions", userId),
    activity: (userId) => personal("activity", userId),
    ceremonyGroup: (group) => `${prefix}ceremony-group:${group}`,
    pendingPushes: (userId) => personal("pending-pushes", userId),
    pushPause: (userId) => personal("push-pause", userId),
    sharedKey: () => `${prefix}shared-key`,
    shared: (name) => `${prefix}shared:${name}`,
    socketChannel: () => `${prefix}socket.io`,
  };
}
