import type { EventChannel } from "../events/event-channel.js";
import type { LoginRequestRecord } from "../store/store.js";

/**
 * What login-request/ tells the rest of the server: a request was created or changed. The
 * feature only says so; whoever cares subscribes (live updates to sockets, activity, expiry
 * timers, push rules, notifications), so nothing here imports them.
 */
export interface LoginRequestChanged {
  /** null when the request was just created. */
  before: LoginRequestRecord | null;
  after: LoginRequestRecord;
  /** The signed-in person whose action this was, where one is known (a phone's session). */
  actorUserId: string | null;
}

export type LoginRequestEvents = EventChannel<LoginRequestChanged>;
