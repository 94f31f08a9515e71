import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import type { SessionEvents } from "../session/session.events.js";
import type { LoginRequestRecord } from "../store/store.js";
import type { AuditTrail, SignInMethod } from "./audit-trail.js";

/** What kind of sign-in a login request stands for. */
export function signInMethodOf(request: LoginRequestRecord): SignInMethod {
  if (request.oidc !== null) return request.oidc.kind === "device_code" ? "device" : "ciba";
  return request.push === null ? "qr" : "push";
}

/**
 * The audit lines that follow from what login-request/ and session/ already announce: a decision
 * on a sign-in, its redemption, a session ending. Whatever made the change (a route, a socket, an
 * app's token request) is covered, since every change goes through those events.
 */
export function auditAnnouncedEvents(deps: {
  audit: AuditTrail;
  loginEvents: LoginRequestEvents;
  sessionEvents: SessionEvents;
}): void {
  const { audit } = deps;
  deps.loginEvents.subscribe(({ before, after, actorUserId }) => {
    if (before === null || before.status === after.status) return;
    const common = { userId: actorUserId ?? after.userId, loginRequestId: after.id, method: signInMethodOf(after) };
    if (after.status === "approved") audit.record({ event: "login.approved", ...common });
    else if (after.status === "redeemed") audit.record({ event: "login.redeemed", ...common });
    else if (after.status === "denied") {
      const event = after.denyReason === "not_me" ? "login.fraud_reported" : "login.denied";
      audit.record({ event, ...common, reason: after.denyReason });
    }
  });
  deps.sessionEvents.subscribe(({ session, reason }) => {
    audit.record({ event: `session.${reason}`, userId: session.userId, sessionId: session.id, kind: session.kind });
  });
}
