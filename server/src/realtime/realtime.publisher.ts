import type { PushReview, SessionEndedPayload } from "@countersign/shared";
import type { LoginRequestRecord } from "../store/store.js";

/**
 * What the domain tells the realtime layer. Services call this after a write succeeds; the
 * Socket.IO implementation turns it into room broadcasts.
 */
export interface RealtimePublisher {
  loginChanged(request: LoginRequestRecord): void;
  sessionEnded(options: { tokenHash: string; reason: SessionEndedPayload["reason"] }): void;
  /** A push request for the person's approver apps. */
  pushRequested(options: { userId: string; review: PushReview }): void;
}
