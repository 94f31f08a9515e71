import { useState } from "react";
import type { AccountPasskey, ActivityView, SessionSummary, SessionView } from "@countersign/shared";
import { Confirm } from "./confirm.js";
import { NotificationsSettings, type NotificationsControls } from "./notifications.js";
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

/** "3 minutes ago", "Today 14:31", or the date: enough to tell two phones of one model apart. */
function lastUsed(at: number): string {
  const minutes = Math.floor((Date.now() - at) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} ${minutes === 1 ? "minute" : "minutes"} ago`;
  const date = new Date(at);
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return date.toDateString() === new Date().toDateString() ? `today ${time}` : `${date.toLocaleDateString()} ${time}`;
}

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

/** Which signed-in devices removing a passkey signs out (the sessions it made). */
function passkeyReach(passkey: AccountPasskey): string {
  const others = passkey.current ? passkey.sessionCount - 1 : passkey.sessionCount;
  if (others <= 0) return passkey.current ? "" : "No device is signed in with it now.";
  const devices = others === 1 ? "that device is" : "those devices are";
  const sessions = passkey.current
    ? `also ends ${plural(others, "other session", "other sessions")}`
    : `ends ${plural(others, "session", "sessions")}`;
  return `It ${sessions} it made: ${devices} signed out at once.`;
}

/** Devices, notifications, apps, passkeys and activity of the signed-in person. */
export function AccountView(props: {
  session: SessionView;
  notifications: NotificationsControls;
  /** This phone's own session ended (its passkey was removed). */
  onSignedOut: () => void;
}): React.JSX.Element {
  const { details, problem, revokeSession, removePasskey, addPasskey } = useAccountDetails(props.session);
  // "This phone" first (UI.md), the rest as the server lists them.
  const sessions = [...(details?.sessions ?? [])].sort((a, b) => Number(b.current) - Number(a.current));
  const passkeys = [...(details?.passkeys ?? [])].sort((a, b) => Number(b.current) - Number(a.current));
  return (
    <div className="account">
      {problem !== null && <p role="alert">{problem}</p>}
      <section aria-labelledby="devices-title">
        <h2 id="devices-title">Signed-in devices</h2>
        <ul className="items">
          {sessions.map((session) => (
            <DeviceItem key={session.id} session={session} onSignOut={() => revokeSession(session.id)} />
          ))}
        </ul>
      </section>
      <NotificationsSettings {...props.notifications} />
      <SignedInApps />
      <section aria-labelledby="passkeys-title">
        <h2 id="passkeys-title">Passkeys</h2>
        <ul className="items">
          {passkeys.map((passkey) => (
            <PasskeyItem
              key={passkey.id}
              passkey={passkey}
              removable={passkeys.length > 1}
              onRemove={async () => {
                const removed = await removePasskey(passkey.id);
                if (removed && passkey.current) props.onSignedOut();
                return removed;
              }}
            />
          ))}
        </ul>
        <button className="secondary" onClick={() => void addPasskey()}>
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

/**
 * One signed-in device. A computer signs out with one tap (it signs in again with this phone in
 * seconds, and in a hurry that tap should be quick); another phone only after saying what it
 * loses, since it then stops getting sign-in requests.
 */
function DeviceItem(props: { session: SessionSummary; onSignOut: () => Promise<boolean> }): React.JSX.Element {
  const { session } = props;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const signOut = (): void => {
    setBusy(true);
    void props.onSignOut().then(() => {
      setBusy(false);
      setConfirming(false);
    });
  };
  const phone = session.kind !== "desktop";
  return (
    <li className={confirming ? "confirming" : undefined}>
      <span>
        <strong>{session.context.label}</strong> · {phone ? "phone" : "computer"}
        {session.current && (
          <>
            {" "}
            · <em>This phone</em>
          </>
        )}
        <br />
        <span className="muted">
          <span title={when(session.createdAt)}>added {new Date(session.createdAt).toLocaleDateString()}</span> ·{" "}
          <span title={when(session.lastSeenAt)}>last used {lastUsed(session.lastSeenAt)}</span>
          {session.context.ip === null ? "" : ` · ${session.context.ip}`}
          {phone && (session.notifications ? " · notifications on" : " · notifications off")}
        </span>
      </span>
      {session.current ? null : confirming ? (
        <Confirm
          title={`Sign out ${session.context.label}?`}
          confirmLabel="Sign out that phone"
          keepLabel="Keep it signed in"
          busy={busy}
          onConfirm={signOut}
          onCancel={() => setConfirming(false)}
        >
          <p>
            That phone stops getting sign-in requests and cannot approve them until it signs in again with its passkey.
          </p>
        </Confirm>
      ) : (
        <button className="secondary" onClick={phone ? () => setConfirming(true) : signOut} disabled={busy}>
          Sign out
        </button>
      )}
    </li>
  );
}

/** One passkey, and its removal behind a confirmation that names what stops working. */
function PasskeyItem(props: {
  passkey: AccountPasskey;
  removable: boolean;
  onRemove: () => Promise<boolean>;
}): React.JSX.Element {
  const { passkey } = props;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const remove = (): void => {
    setBusy(true);
    void props.onRemove().then(() => {
      setBusy(false);
      setConfirming(false);
    });
  };
  return (
    <li className={confirming ? "confirming" : undefined}>
      <span>
        <strong>{passkey.label}</strong>
        {passkey.current && (
          <>
            {" "}
            · <em>This phone</em>
          </>
        )}
        <br />
        <span className="muted">
          added {new Date(passkey.createdAt).toLocaleDateString()} ·{" "}
          {passkey.lastUsedAt === null ? "never used" : `last used ${lastUsed(passkey.lastUsedAt)}`}
        </span>
      </span>
      {!props.removable ? null : confirming ? (
        <Confirm
          title={`Remove the passkey ${passkey.label}?`}
          confirmLabel="Remove passkey"
          keepLabel="Keep passkey"
          busy={busy}
          onConfirm={remove}
          onCancel={() => setConfirming(false)}
        >
          {passkey.current && (
            <p>
              <strong>This phone signs in with this passkey.</strong> Removing it signs this phone out: it stops getting
              sign-in requests and cannot approve them until you set it up again.
            </p>
          )}
          <p>{passkeyReach(passkey)} You cannot approve with it any more.</p>
        </Confirm>
      ) : (
        <button className="secondary" onClick={() => setConfirming(true)} aria-label={`Remove ${passkey.label}`}>
          Remove
        </button>
      )}
    </li>
  );
}
