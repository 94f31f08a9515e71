import type { SessionEndedPayload } from "@countersign/shared";
import type { EventChannel } from "../events/event-channel.js";
import type { SessionRecord } from "../store/store.js";

/**
 * A session ended (after it was deleted). The realtime layer subscribes: every socket signed in
 * with it is told why and loses what it granted, on every process.
 */
export interface SessionEnded {
  session: SessionRecord;
  reason: SessionEndedPayload["reason"];
}

export type SessionEvents = EventChannel<SessionEnded>;
