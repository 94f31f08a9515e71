import { z } from "zod";
import type { ErrorBody } from "./errors.js";
import { desktopSecretSchema, loginIdSchema, type LoginView } from "./login-request.schemas.js";
import type { PushResolvedPayload, PushReview } from "./push-login.schemas.js";

/** Socket.IO event names (DESIGN §5), in one place for the server and both apps. */
export const SOCKET_EVENTS = {
  loginWatch: "login:watch",
  loginUnwatch: "login:unwatch",
  loginUpdate: "login:update",
  sessionEnded: "session:ended",
  pushRequest: "push:request",
  pushResolved: "push:resolved",
} as const;

/** Socket.IO rooms. */
export const SOCKET_ROOMS = {
  login: (id: string) => `login:${id}`,
  user: (id: string) => `user:${id}`,
  session: (hash: string) => `session:${hash}`,
} as const;

export const loginWatchPayloadSchema = z.object({
  id: loginIdSchema,
  desktopSecret: desktopSecretSchema,
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
  [SOCKET_EVENTS.loginWatch]: (payload: LoginWatchPayload, ack: (response: Ack<{ login: LoginView }>) => void) => void;
  [SOCKET_EVENTS.loginUnwatch]: (payload: LoginUnwatchPayload, ack: (response: Ack) => void) => void;
}

export interface ServerToClientEvents {
  [SOCKET_EVENTS.loginUpdate]: (login: LoginView) => void;
  [SOCKET_EVENTS.sessionEnded]: (payload: SessionEndedPayload) => void;
  /** To the person's approver apps: a push request to review. */
  [SOCKET_EVENTS.pushRequest]: (review: PushReview) => void;
  /** To the person's approver apps: a push request was decided, expired or replaced anywhere. */
  [SOCKET_EVENTS.pushResolved]: (payload: PushResolvedPayload) => void;
}
