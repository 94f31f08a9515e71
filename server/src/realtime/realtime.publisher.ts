import type { PushReview, SessionEndedPayload } from "@countersign/shared";
import type { LoginRequestRecord, SessionRecord } from "../store/store.js";

/**
 * What the domain tells the realtime layer. Services call this after a write succeeds; the
 * Socket.IO implementation turns it into room broadcasts.
 */
export interface RealtimePublisher {
  loginChanged(request: LoginRequestRecord): void;
  /**
   * A session ended (after it was deleted): every socket signed in with it is told why and loses
   * what the session gave it, on every process.
   */
  sessionEnded(options: { session: SessionRecord; reason: SessionEndedPayload["reason"] }): void;
  /** A push request for the person's approver apps. */
  pushRequested(options: { userId: string; review: PushReview }): void;
}
