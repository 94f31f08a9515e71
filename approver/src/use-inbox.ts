import { useEffect, useState } from "react";
import { io, type Socket } from "socket.io-client";
import {
  API_PATHS,
  SOCKET_EVENTS,
  type ClientToServerEvents,
  type InboxResponse,
  type PushReview,
  type ServerToClientEvents,
} from "@countersign/shared";
import { callApi } from "./api-client.js";
import { onWorkerMessage } from "./sw-messages.js";

export interface Inbox {
  requests: PushReview[];
  /** Whether the inbox has been read at least once (until then, a missing request may yet come). */
  loaded: boolean;
}

/**
 * Push requests waiting for this person, live: the socket (signed in by the approver cookie)
 * adds and removes them, and every (re)connection reloads the inbox so nothing is missed.
 */
export function useInbox(options: { onSessionEnded: () => void }): Inbox {
  const { onSessionEnded } = options;
  const [requests, setRequests] = useState<PushReview[]>([]);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ transports: ["websocket"] });
    const reload = (fallback?: PushReview): void => {
      callApi<InboxResponse>("GET", API_PATHS.approverInbox)
        .then(({ requests: current }) => {
          setRequests(current);
          setLoaded(true);
        })
        .catch(() => {
          if (fallback === undefined) return;
          setRequests((current) => [fallback, ...current.filter((item) => item.id !== fallback.id)]);
        });
    };
    socket.on("connect", () => reload());
    // The broadcast reaches every phone of the person, each from its own address, so it carries
    // no proximity verdict; the inbox judges each request for this phone. Only if that fails is
    // the broadcast shown as it is (its verdict "unknown").
    socket.on(SOCKET_EVENTS.pushRequest, (review) => reload(review));
    socket.on(SOCKET_EVENTS.pushResolved, ({ id }) =>
      setRequests((current) => current.filter((item) => item.id !== id)),
    );
    // Signed out or revoked elsewhere: the server has already taken this socket out of the
    // person's room, so nothing more arrives; drop what is shown and let the app re-check.
    // A new connection carries the cookie as it is now: if this phone signed in again (a new
    // account replaced the old session), the handshake puts it in the new person's room.
    socket.on(SOCKET_EVENTS.sessionEnded, () => {
      setRequests([]);
      onSessionEnded();
      socket.disconnect().connect();
    });
    // A notification arrived: the socket of an app in the background may have been asleep.
    const stopListening = onWorkerMessage((message) => {
      if (message.change === "shown") reload();
    });
    return () => {
      stopListening();
      socket.close();
    };
  }, [onSessionEnded]);
  return { requests, loaded };
}
