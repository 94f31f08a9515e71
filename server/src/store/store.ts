import type {
  ActivityRecord,
  CeremonyRecord,
  CredentialRecord,
  LoginRequestRecord,
  PushSubscriptionRecord,
  SessionRecord,
  UserRecord,
} from "./store.types.js";

export type * from "./store.types.js";

/** The newest activity events kept per user (DESIGN §2). */
export const ACTIVITY_LIMIT = 200;

/**
 * Everything Countersign keeps. Each method is one atomic operation, so a memory and a Redis
 * implementation can pass the same contract tests and no caller ever checks then writes.
 * Records expire by their own timestamps (`expiresAt`, `retainUntil`); a record past its time
 * reads as absent.
 */
export interface Store {
  /** A new account with its first passkey, both or neither. */
  createUserWithCredential(options: {
    user: UserRecord;
    credential: CredentialRecord;
  }): Promise<"created" | "username_taken" | "credential_taken">;
  getUser(id: string): Promise<UserRecord | null>;
  findUserByUsername(username: string): Promise<UserRecord | null>;

  addCredential(credential: CredentialRecord): Promise<"added" | "credential_taken">;
  getCredential(id: string): Promise<CredentialRecord | null>;
  listCredentials(userId: string): Promise<CredentialRecord[]>;
  /** Removes one of the user's passkeys, but never the last one: an account needs a way in. */
  removeCredential(options: {
    userId: string;
    credentialId: string;
  }): Promise<"removed" | "last_credential" | "not_found">;
  /**
   * Records a verified use, in one compare-and-set: "advanced" if `counter` is above the stored
   * signature counter (which becomes `counter`), or if both are 0 (an authenticator without a
   * counter, WebAuthn L3 §6.1.1: only `lastUsedAt` moves); otherwise "replayed" and nothing is
   * written. So of many uses that carry the same counter, at most one is recorded. `lastUsedAt`
   * only moves forward.
   */
  advanceCredentialCounter(options: {
    id: string;
    counter: number;
    usedAt: number;
  }): Promise<"advanced" | "replayed" | "not_found">;

  putCeremony(ceremony: CeremonyRecord): Promise<void>;
  /**
   * Stores a ceremony unless `group` already holds `maxLive` ceremonies that have not expired
   * (taken ones still count until their time is up), in one step: a cap that concurrent starts
   * cannot overshoot.
   */
  putCeremonyInGroup(options: {
    ceremony: CeremonyRecord;
    group: string;
    maxLive: number;
  }): Promise<"stored" | "group_full">;
  /** Reads and deletes in one step: a challenge can be taken once. */
  takeCeremony(id: string): Promise<CeremonyRecord | null>;

  /** Fails if the id or the user code is already in use. */
  createLoginRequest(request: LoginRequestRecord): Promise<"created" | "conflict">;
  getLoginRequest(id: string): Promise<LoginRequestRecord | null>;
  findLoginRequestByUserCode(userCode: string): Promise<LoginRequestRecord | null>;
  /**
   * Writes `next` only if the stored version is still `expectedVersion`; `next.version` must be
   * `expectedVersion + 1`. Returns false when someone else wrote first.
   */
  compareAndSetLoginRequest(options: { expectedVersion: number; next: LoginRequestRecord }): Promise<boolean>;
  /** The redeem: the compare-and-set and the new desktop session, both or neither. */
  redeemLoginRequest(options: {
    expectedVersion: number;
    next: LoginRequestRecord;
    session: SessionRecord;
  }): Promise<boolean>;

  createSession(session: SessionRecord): Promise<void>;
  getSession(tokenHash: string): Promise<SessionRecord | null>;
  /** Returns the deleted session, or null if there was none. */
  deleteSession(tokenHash: string): Promise<SessionRecord | null>;
  /** The user's live sessions, of every kind, oldest first. */
  listSessions(userId: string): Promise<SessionRecord[]>;
  /**
   * Records a use of a live session: `lastSeenAt` and `expiresAt` move to the given times, each
   * only forward (a sliding lifetime). Returns the session as stored now, or null if it has
   * ended: an ended session is never brought back.
   */
  touchSession(options: { tokenHash: string; lastSeenAt: number; expiresAt: number }): Promise<SessionRecord | null>;
  /**
   * Sets (or with null, clears) a live session's push subscription. With `ifEndpoint`, only if
   * the stored subscription still has that endpoint (a push service said it is gone; a newer
   * one must not be cleared). Returns the session as stored now, or null if it has ended.
   */
  setSessionPushSubscription(options: {
    tokenHash: string;
    subscription: PushSubscriptionRecord | null;
    ifEndpoint?: string;
  }): Promise<SessionRecord | null>;

  /**
   * Makes `loginRequestId` the user's one pending push request from `source` until `until`, and
   * returns the one from the same source it replaces (to be superseded), in one step so two
   * pushes can't both think they are it. Requests from other sources are left alone: a stranger
   * cannot replace the person's own request.
   */
  swapPendingPush(options: {
    userId: string;
    source: string;
    loginRequestId: string;
    until: number;
    /** False for a request held back (paused or over a limit): it only takes the slot. */
    delivered: boolean;
  }): Promise<string | null>;
  /** The ids of the user's delivered pending push requests, one per source, in no particular order. */
  listPendingPushes(userId: string): Promise<string[]>;
  /** Stops pushes to the user until `until` (after "This wasn't me"). */
  pausePushes(options: { userId: string; until: number }): Promise<void>;
  pushesPausedUntil(userId: string): Promise<number | null>;

  /** Appends to the user's activity, keeping only the newest ACTIVITY_LIMIT. */
  appendActivity(options: { userId: string; event: ActivityRecord }): Promise<void>;
  /** Newest first. */
  listActivity(userId: string): Promise<ActivityRecord[]>;

  close(): Promise<void>;
}
