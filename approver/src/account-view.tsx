import type { ActivityView, SessionView } from "@countersign/shared";
import { SecondPhoneLink } from "./second-phone.js";
import { SignedInApps } from "./signed-in-apps.js";
import { useAccountDetails } from "./use-account-details.js";

const ACTIVITY_LABELS: Record<ActivityView["kind"], string> = {
  passkey_enrolled: "Passkey added",
  login_approved: "Sign-in approved",
  login_denied: "Sign-in denied",
  fraud_reported: "Reported: this wasn't me",
  session_signed_out: "Signed out",
};

const when = (at: number): string => new Date(at).toLocaleString();

/** Devices, apps, passkeys and activity of the signed-in person. */
export function AccountView(props: { session: SessionView }): React.JSX.Element {
  const { details, problem, revokeSession, removePasskey, addPasskey } = useAccountDetails(props.session);
  return (
    <div className="account">
      {problem !== null && <p role="alert">{problem}</p>}
      <section aria-labelledby="devices-title">
        <h2 id="devices-title">Signed-in devices</h2>
        <ul className="items">
          {details?.sessions.map((session) => (
            <li key={session.id}>
              <span>
                <strong>{session.context.label}</strong> · {session.kind === "desktop" ? "computer" : "phone"} · since{" "}
                {when(session.createdAt)}
                {session.context.ip === null ? "" : ` · ${session.context.ip}`}
              </span>
              {session.current ? (
                <em>This phone</em>
              ) : (
                <button className="secondary" onClick={() => revokeSession(session.id)}>
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
      <SignedInApps />
      <section aria-labelledby="passkeys-title">
        <h2 id="passkeys-title">Passkeys</h2>
        <ul className="items">
          {details?.passkeys.map((passkey) => (
            <li key={passkey.id}>
              <span>
                <strong>{passkey.label}</strong> · added {when(passkey.createdAt)} ·{" "}
                {passkey.lastUsedAt === null ? "never used" : `last used ${when(passkey.lastUsedAt)}`}
              </span>
              {details.passkeys.length > 1 && (
                <button className="secondary" onClick={() => removePasskey(passkey.id)}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
        <button className="secondary" onClick={addPasskey}>
          Add a passkey
        </button>
      </section>
      <SecondPhoneLink />
      <section aria-labelledby="activity-title">
        <h2 id="activity-title">Activity</h2>
        <ul className="items">
          {details?.activity.map((event) => (
            <li key={`${event.at}-${event.kind}-${event.loginRequestId ?? ""}`}>
              <span className={event.kind === "fraud_reported" ? "fraud" : undefined}>
                <strong>{ACTIVITY_LABELS[event.kind]}</strong> · {when(event.at)}
                {event.context === null ? "" : ` · ${event.context.label}`}
                {event.context?.ip == null ? "" : ` · ${event.context.ip}`}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
