import { SOCKET_ROOMS } from "@countersign/shared";
import type { SessionRecord } from "../store/store.js";

/**
 * The rooms a session puts a socket in: its own (to hear that it ended) and, for a phone, the
 * person's (push requests). A desktop session grants no person room, so its end never takes a
 * socket out of a room its phone session put it in.
 */
export function roomsGrantedBy(session: SessionRecord): string[] {
  const own = SOCKET_ROOMS.session(session.tokenHash);
  return session.kind === "approver" ? [own, SOCKET_ROOMS.user(session.userId)] : [own];
}
