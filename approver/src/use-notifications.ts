import { useCallback, useEffect, useState } from "react";
import { ApiError } from "./api-client.js";
import {
  notificationSupport,
  NotificationsError,
  restoreNotifications,
  turnOffNotifications,
  turnOnNotifications,
  type NotificationSupport,
} from "./push-subscription.js";

export interface NotificationsState {
  support: NotificationSupport;
  /** Whether the server sends this phone notifications; null until known. */
  enabled: boolean | null;
  busy: boolean;
  problem: string | null;
}

const blockedHelp = (): string =>
  `Notifications are blocked for ${window.location.host}. To get sign-in requests while this app is closed, allow notifications for it in your browser's site settings, then come back here.`;

function problemOf(error: unknown): string {
  if (error instanceof NotificationsError) {
    if (error.code === "BLOCKED") return blockedHelp();
    if (error.code === "UNSUPPORTED") {
      return "This browser cannot show notifications from this app. On an iPhone, add Countersign to your Home Screen first, then open it from there.";
    }
    return "Notifications were not turned on. You can turn them on here whenever you like.";
  }
  if (error instanceof ApiError) return error.message;
  return "Notifications could not be turned on. Try again.";
}

/**
 * Notifications for this phone's session: what the browser allows, whether the server sends,
 * and turning them on or off. On sign-in (a new session) a subscription the browser already
 * holds is handed to the server again, without asking anything.
 */
export function useNotifications(options: {
  /** Changes with each sign-in: a new session starts without a subscription. */
  sessionKey: string;
}): {
  notifications: NotificationsState;
  turnOn: () => void;
  turnOff: () => void;
} {
  const { sessionKey } = options;
  const [state, setState] = useState<NotificationsState>(() => ({
    support: notificationSupport(),
    enabled: null,
    busy: false,
    problem: null,
  }));

  useEffect(() => {
    let live = true;
    restoreNotifications()
      .then((enabled) => live && setState((current) => ({ ...current, support: notificationSupport(), enabled })))
      // Unknown is shown as off: the person can still turn them on.
      .catch(() => live && setState((current) => ({ ...current, enabled: false })));
    return () => {
      live = false;
    };
  }, [sessionKey]);

  const run = useCallback((action: () => Promise<void>, enabled: boolean) => {
    setState((current) => ({ ...current, busy: true, problem: null }));
    action()
      .then(() => setState({ support: notificationSupport(), enabled, busy: false, problem: null }))
      .catch((error: unknown) =>
        setState((current) => ({ ...current, support: notificationSupport(), busy: false, problem: problemOf(error) })),
      );
  }, []);

  return {
    notifications: state,
    turnOn: useCallback(() => run(turnOnNotifications, true), [run]),
    turnOff: useCallback(() => run(turnOffNotifications, false), [run]),
  };
}

export { blockedHelp };
