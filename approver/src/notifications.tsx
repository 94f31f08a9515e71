import { useState } from "react";
import { blockedHelp, type NotificationsState } from "./use-notifications.js";

export interface NotificationsControls {
  notifications: NotificationsState;
  turnOn: () => void;
  turnOff: () => void;
}

/**
 * Right after this phone signs in: why notifications matter, and the one tap that asks the
 * browser. The permission prompt only ever follows this explanation, never a page load.
 */
export function NotificationsOffer(props: NotificationsControls & { onClose: () => void }): React.JSX.Element | null {
  const { notifications, turnOn, onClose } = props;
  const [asked, setAsked] = useState(false);
  if (notifications.support === "unsupported") return null;
  if (asked && notifications.enabled === true) {
    return (
      <section className="offer" aria-labelledby="offer-title">
        <h2 id="offer-title">Notifications are on</h2>
        <p role="status">Sign-in requests now reach you even when this app is closed.</p>
        <button className="quiet" onClick={onClose}>
          Done
        </button>
      </section>
    );
  }
  // Already on (a phone that allowed them before), or blocked: nothing to offer here; the
  // account screen says what to do about a block.
  if (notifications.enabled !== false || (!asked && notifications.support === "denied")) return null;
  return (
    <section className="offer" aria-labelledby="offer-title">
      <h2 id="offer-title">Get sign-in requests even when this app is closed</h2>
      <p>
        When you sign in on a computer with your username, you get a notification here to approve it. Without them,
        requests only arrive while this app is open.
      </p>
      {notifications.problem !== null && <p role="alert">{notifications.problem}</p>}
      <div className="stack">
        <button
          onClick={() => {
            setAsked(true);
            turnOn();
          }}
          disabled={notifications.busy}
        >
          Turn on notifications
        </button>
        <button className="quiet" onClick={onClose} disabled={notifications.busy}>
          Not now
        </button>
      </div>
    </section>
  );
}

/** The account screen's switch, and what to do when the browser blocks notifications. */
export function NotificationsSettings(props: NotificationsControls): React.JSX.Element {
  const { notifications, turnOn, turnOff } = props;
  let body: React.JSX.Element;
  if (notifications.support === "unsupported") {
    body = (
      <p>
        This browser cannot show notifications from this app. On an iPhone, add Countersign to your Home Screen first,
        then open it from there.
      </p>
    );
  } else if (notifications.support === "denied") {
    body = <p>{blockedHelp()}</p>;
  } else if (notifications.enabled === null) {
    body = <p>Checking…</p>;
  } else if (notifications.enabled) {
    body = (
      <>
        <p>On: sign-in requests reach you even when this app is closed.</p>
        <button className="secondary" onClick={turnOff} disabled={notifications.busy}>
          Turn off notifications
        </button>
      </>
    );
  } else {
    body = (
      <>
        <p>Off: sign-in requests arrive only while this app is open.</p>
        <button onClick={turnOn} disabled={notifications.busy}>
          Turn on notifications
        </button>
      </>
    );
  }
  return (
    <section aria-labelledby="notifications-title">
      <h2 id="notifications-title">Notifications</h2>
      {body}
      {notifications.problem !== null && <p role="alert">{notifications.problem}</p>}
    </section>
  );
}
