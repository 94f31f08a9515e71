import type { Clock } from "../clock.js";
import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import type { Store } from "../store/store.js";

/**
 * Keeps each person's activity (DESIGN §2) from what login-request/ announces: an approval in
 * the approver's activity, a denial in the activity of the signed-in phone that denied it, with
 * "This wasn't me" as a fraud report.
 */
export function recordLoginActivity(deps: { store: Store; clock: Clock; loginEvents: LoginRequestEvents }): void {
  const { store } = deps;
  deps.loginEvents.subscribe(async ({ before, after, actorUserId }) => {
    if (before === null || before.status === after.status) return;
    if (after.status === "approved" && after.userId !== null) {
      const passkey = after.credentialId === null ? null : await store.getCredential(after.credentialId);
      await store.appendActivity({
        userId: after.userId,
        event: {
          at: after.approvedAt ?? deps.clock.now(),
          kind: "login_approved",
          loginRequestId: after.id,
          context: after.desktop,
          detail: passkey?.label ?? null,
        },
      });
    }
    // An anonymous phone (scanned without signing in) can deny, but is no one's activity.
    if (after.status === "denied" && actorUserId !== null) {
      await store.appendActivity({
        userId: actorUserId,
        event: {
          at: after.decidedAt ?? deps.clock.now(),
          kind: after.denyReason === "not_me" ? "fraud_reported" : "login_denied",
          loginRequestId: after.id,
          context: after.desktop,
          detail: after.denyReason,
        },
      });
    }
  });
}
