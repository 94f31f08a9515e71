import { z } from "zod";
import type { ErrorBody } from "./errors.js";
import { desktopProofSchema } from "./desktop-key.schemas.js";
import { desktopSecretSchema, loginIdSchema, type LoginView, type QrFrame } from "./login-request.schemas.js";
import type { PushResolvedPayload, PushReview } from "./push-login.schemas.js";

/** Socket.IO event names (DESIGN §5), in one place for the server and both apps. */
export const SOCKET_EVENTS = {
  loginWatch: "login:watch",
  loginUnwatch: "login:unwatch",
  loginUpdate: "login:update",
  loginQr: "login:qr",
  sessionEnded: "session:ended",
  pushRequest: "push:request",
  pushResolved: "push:resolved",
} as const;

/** Socket.IO rooms. */
export const SOCKET_ROOMS = {
  login: (id: string) => `login:${id}`,
  user: (id: string) => `user:${id}`,
  session: (hash: string) => `session:${hash}`,
  /**
   * The desktops still drawing a request's QR. Its process sends each of them a frame per step
   * while they are in it; the request's end takes every socket out of it, on every process.
   */
  qrFrames: (id: string) => `qr:${id}`,
} as const;

export const loginWatchPayloadSchema = z.object({
  id: loginIdSchema,
  desktopSecret: desktopSecretSchema,
  /** A fresh proof of the page's key, for use "watch" (desktop-key.schemas.ts). */
  proof: desktopProofSchema,
});
export type LoginWatchPayload = z.infer<typeof loginWatchPayloadSchema>;

export const loginUnwatchPayloadSchema = z.object({ id: loginIdSchema });
export type LoginUnwatchPayload = z.infer<typeof loginUnwatchPayloadSchema>;

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export interface SessionEndedPayload {
  /** "replaced": the same browser signed in again (a new session took this one's place). */
  reason: "signed_out" | "revoked" | "expired" | "replaced";
}

export interface ClientToServerEvents {
  /** The acknowledgement carries the current state and, while a QR request waits, its current frame. */
  [SOCKET_EVENTS.loginWatch]: (
    payload: LoginWatchPayload,
    ack: (response: Ack<{ login: LoginView; qr: QrFrame | null }>) => void,
  ) => void;
  [SOCKET_EVENTS.loginUnwatch]: (payload: LoginUnwatchPayload, ack: (response: Ack) => void) => void;
}

export interface ServerToClientEvents {
  [SOCKET_EVENTS.loginUpdate]: (login: LoginView) => void;
  /** To the socket watching a QR request: its next frame, every QR_STEP_MS while it waits for a phone. */
  [SOCKET_EVENTS.loginQr]: (frame: QrFrame) => void;
  [SOCKET_EVENTS.sessionEnded]: (payload: SessionEndedPayload) => void;
  /** To the person's approver apps: a push request to review. */
  [SOCKET_EVENTS.pushRequest]: (review: PushReview) => void;
  /** To the person's approver apps: a push request was decided, expired or replaced anywhere. */
  [SOCKET_EVENTS.pushResolved]: (payload: PushResolvedPayload) => void;
}
