import { SESSION_TOKEN_BYTES, type SessionEndedPayload, type SessionKind, type SessionView } from "@countersign/shared";
import type { Clock } from "../clock.js";
import { randomToken, type Random } from "../random.js";
import type { ClientContext, SessionRecord, SessionSource, Store } from "../store/store.js";
import { hashSecret } from "../tokens.js";
import type { SessionEvents } from "./session.events.js";

export interface NewSession {
  /** Goes to the client once, in a cookie; only its hash is stored. */
  token: string;
  record: SessionRecord;
}

export interface SessionService {
  /** A session record and its token, not yet stored (the caller stores it, maybe atomically with more). */
  prepareSession(options: {
    kind: SessionKind;
    userId: string;
    context: ClientContext;
    source: SessionSource;
  }): NewSession;
  createSession(options: {
    kind: SessionKind;
    userId: string;
    context: ClientContext;
    source: SessionSource;
  }): Promise<NewSession>;
  /** The live session for a token of this kind, or null. */
  findSession(options: { token: string | null; kind: SessionKind }): Promise<SessionRecord | null>;
  /** The live session with this token hash and kind, or null. */
  findSessionByHash(options: { tokenHash: string; kind: SessionKind }): Promise<SessionRecord | null>;
  /** Ends a session and tells every page signed in with it. */
  endSession(options: { token: string; kind: SessionKind }): Promise<SessionRecord | null>;
  /**
   * Ends these sessions (revoked, replaced, their passkey removed): each is deleted, and every
   * socket signed in with it is told and loses what it granted. Returns the ones that ended here.
   */
  endSessions(options: { sessions: SessionRecord[]; reason: SessionEndedPayload["reason"] }): Promise<SessionRecord[]>;
  describeSession(session: SessionRecord): Promise<SessionView | null>;
  /**
   * Keeps a phone's session alive while it is used: past the slide interval since it was last
   * seen, its expiry moves to now + the approver TTL. Returns the session as it now stands (the
   * same record when nothing moved), or null if it ended meanwhile. A computer's session keeps
   * the lifetime it got at sign-in.
   */
  slideSession(session: SessionRecord): Promise<SessionRecord | null>;
}

/**
 * How often a used phone session is written forward. Not on every request: an hour of drift on a
 * lifetime of months costs nothing, a store write per request does.
 */
export const APPROVER_SESSION_SLIDE_INTERVAL_MS = 60 * 60_000;

export function createSessionService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  events: SessionEvents;
  /** A computer's session: fixed from sign-in. */
  sessionTtlMs: number;
  /** A phone's session: sliding on use (DEFAULT_APPROVER_SESSION_TTL_SECONDS). */
  approverSessionTtlMs: number;
}): SessionService {
  const { store, clock } = deps;
  const ttlOf = (kind: SessionKind): number => (kind === "approver" ? deps.approverSessionTtlMs : deps.sessionTtlMs);
  // A lifetime shorter than two intervals (tests, strict deployments) would run out between slides.
  const slideIntervalMs = Math.min(APPROVER_SESSION_SLIDE_INTERVAL_MS, deps.approverSessionTtlMs / 2);

  function prepareSession(options: {
    kind: SessionKind;
    userId: string;
    context: ClientContext;
    source: SessionSource;
  }): NewSession {
    const token = randomToken(deps.random, SESSION_TOKEN_BYTES);
    const now = clock.now();
    return {
      token,
      record: {
        tokenHash: hashSecret(token),
        id: randomToken(deps.random, 16),
        kind: options.kind,
        userId: options.userId,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + ttlOf(options.kind),
        context: options.context,
        source: options.source,
        pushSubscription: null,
      },
    };
  }

  async function findSessionByHash(options: { tokenHash: string; kind: SessionKind }): Promise<SessionRecord | null> {
    const session = await store.getSession(options.tokenHash);
    // A desktop cookie must not work as an approver cookie, nor the other way round.
    if (session === null || session.kind !== options.kind || clock.now() >= session.expiresAt) return null;
    return session;
  }

  async function endSessions(options: {
    sessions: SessionRecord[];
    reason: SessionEndedPayload["reason"];
  }): Promise<SessionRecord[]> {
    const ended: SessionRecord[] = [];
    for (const session of options.sessions) {
      // Only the caller that deleted it announces it: two racing revokes tell the page once.
      const deleted = await store.deleteSession(session.tokenHash);
      if (deleted === null) continue;
      await deps.events.publish({ session: deleted, reason: options.reason });
      ended.push(deleted);
    }
    return ended;
  }

  return {
    prepareSession,
    async createSession(options) {
      const session = prepareSession(options);
      await store.createSession(session.record);
      return session;
    },
    async findSession({ token, kind }) {
      if (token === null) return null;
      return findSessionByHash({ tokenHash: hashSecret(token), kind });
    },
    findSessionByHash,
    async endSession({ token, kind }) {
      const session = await findSessionByHash({ tokenHash: hashSecret(token), kind });
      if (session === null) return null;
      const [ended] = await endSessions({ sessions: [session], reason: "signed_out" });
      return ended ?? null;
    },
    endSessions,
    async slideSession(session) {
      const now = clock.now();
      if (session.kind !== "approver" || now - session.lastSeenAt < slideIntervalMs) return session;
      // Forward only, and never reviving one that ended: a revoke racing this use still wins.
      return store.touchSession({
        tokenHash: session.tokenHash,
        lastSeenAt: now,
        expiresAt: now + ttlOf(session.kind),
      });
    },
    async describeSession(session) {
      const user = await store.getUser(session.userId);
      if (user === null) return null;
      const passkey = await store.getCredential(session.source.credentialId);
      const passkeyLabel = passkey?.label ?? null;
      let approvedWith: SessionView["approvedWith"] = null;
      if (session.source.kind === "login_request") {
        approvedWith = {
          loginRequestId: session.source.loginRequestId,
          passkeyLabel: passkeyLabel ?? "a removed passkey",
          approverDevice: session.source.approver.label,
          approvedAt: session.source.approvedAt,
        };
      }
      const method = ({ login_request: "qr", passkey: "passkey", enrolment: "enrolment" } as const)[
        session.source.kind
      ];
      return {
        kind: session.kind,
        user: { id: user.id, username: user.username, displayName: user.displayName },
        createdAt: session.createdAt,
        expiresAt: session.expiresAt,
        context: session.context,
        method,
        passkeyLabel,
        approvedWith,
      };
    },
  };
}
