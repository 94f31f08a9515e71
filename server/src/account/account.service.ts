import type { AccountPasskey, ActivityView, SessionSummary } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { NO_AUDIT, type AuditTrail } from "../observability/audit-trail.js";
import type { SessionService } from "../session/session.service.js";
import type { SessionRecord, Store } from "../store/store.js";

/** What a signed-in person manages from the phone (DESIGN §3.4): sessions, activity, passkeys. */
export interface AccountService {
  listSessions(options: { approver: SessionRecord }): Promise<SessionSummary[]>;
  /** Ends one of the person's sessions at once; a page signed in with it hears so live. */
  revokeSession(options: { approver: SessionRecord; sessionId: string }): Promise<void>;
  listActivity(options: { approver: SessionRecord }): Promise<ActivityView[]>;
  listPasskeys(options: { approver: SessionRecord }): Promise<AccountPasskey[]>;
  removePasskey(options: { approver: SessionRecord; passkeyId: string }): Promise<void>;
  /**
   * Ends every computer session of the person at once (after "This wasn't me", or a computer out
   * of their control); their pages hear it live. Phones stay signed in. Returns how many ended.
   */
  signOutComputers(options: { approver: SessionRecord }): Promise<number>;
}

const METHODS = { login_request: "qr", passkey: "passkey", enrolment: "enrolment" } as const;

export function createAccountService(deps: {
  store: Store;
  clock: Clock;
  sessions: SessionService;
  /** Where passkey removals and sign-outs are recorded; omitted, nowhere. */
  audit?: AuditTrail;
}): AccountService {
  const { store } = deps;
  const audit = deps.audit ?? NO_AUDIT;
  return {
    async listSessions({ approver }) {
      const sessions = await store.listSessions(approver.userId);
      return sessions.map((session) => ({
        id: session.id,
        kind: session.kind,
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        expiresAt: session.expiresAt,
        context: session.context,
        method: METHODS[session.source.kind],
        current: session.tokenHash === approver.tokenHash,
        passkeyId: session.source.credentialId,
        notifications: session.pushSubscription !== null,
      }));
    },

    async revokeSession({ approver, sessionId }) {
      // Looked up among the person's own sessions only: nobody can end someone else's.
      const target = (await store.listSessions(approver.userId)).find((session) => session.id === sessionId);
      if (target === undefined) throw new AppError("NOT_FOUND", "No such session; it may have ended already.");
      if ((await deps.sessions.endSessions({ sessions: [target], reason: "revoked" })).length === 0) return;
      await store.appendActivity({
        userId: approver.userId,
        event: {
          at: deps.clock.now(),
          kind: "session_signed_out",
          loginRequestId: null,
          context: target.context,
          detail: `revoked from ${approver.context.label}`,
        },
      });
    },

    async listActivity({ approver }) {
      return store.listActivity(approver.userId);
    },

    async listPasskeys({ approver }) {
      const [passkeys, sessions] = await Promise.all([
        store.listCredentials(approver.userId),
        store.listSessions(approver.userId),
      ]);
      return passkeys.map((passkey) => ({
        id: passkey.id,
        label: passkey.label,
        createdAt: passkey.createdAt,
        lastUsedAt: passkey.lastUsedAt,
        backedUp: passkey.backedUp,
        current: passkey.id === approver.source.credentialId,
        sessionCount: sessions.filter((session) => session.source.credentialId === passkey.id).length,
      }));
    },

    async removePasskey({ approver, passkeyId }) {
      const result = await store.removeCredential({ userId: approver.userId, credentialId: passkeyId });
      if (result === "not_found") throw new AppError("NOT_FOUND", "No such passkey on your account.");
      if (result === "last_credential") {
        throw new AppError("LAST_PASSKEY", "This is your only passkey. Add another before removing it.");
      }
      audit.record({ event: "passkey.removed", userId: approver.userId, passkeyId });
      // A session lives no longer than the passkey that made it: removing a lost phone's
      // passkey signs that phone out, and everything it signed in, at once.
      const madeByIt = (await store.listSessions(approver.userId)).filter(
        (session) => session.source.credentialId === passkeyId,
      );
      await deps.sessions.endSessions({ sessions: madeByIt, reason: "revoked" });
    },

    async signOutComputers({ approver }) {
      const desktops = (await store.listSessions(approver.userId)).filter((session) => session.kind === "desktop");
      const ended = await deps.sessions.endSessions({ sessions: desktops, reason: "revoked" });
      audit.record({ event: "account.computers_signed_out", userId: approver.userId, count: ended.length });
      // One line for the act, not one per computer: the person did one thing.
      if (ended.length > 0) {
        const computers = ended.length === 1 ? "1 computer" : `${ended.length} computers`;
        await store.appendActivity({
          userId: approver.userId,
          event: {
            at: deps.clock.now(),
            kind: "session_signed_out",
            loginRequestId: null,
            context: approver.context,
            detail: `${computers} signed out from ${approver.context.label}`,
          },
        });
      }
      return ended.length;
    },
  };
}
