import { SOCKET_EVENTS, SOCKET_ROOMS } from "@countersign/shared";
import type { EventChannel } from "../events/event-channel.js";
import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import { toLoginView } from "../login-request/login-request.view.js";
import type { PushRequested } from "../push-login/push-login.service.js";
import type { SessionEvents } from "../session/session.events.js";
import { roomsGrantedBy } from "./socket.rooms.js";
import type { CountersignIo } from "./socket.server.js";

/**
 * How what the features announce reaches sockets: as room broadcasts, which the Socket.IO adapter
 * carries to sockets held by every other process. The features never import this; it listens.
 */
export function broadcastToSockets(deps: {
  io: CountersignIo;
  loginEvents: LoginRequestEvents;
  sessionEvents: SessionEvents;
  pushEvents: EventChannel<PushRequested>;
}): void {
  const { io } = deps;

  deps.loginEvents.subscribe(({ before, after }) => {
    // A new request has nobody watching it yet.
    if (before === null) return;
    io.to(SOCKET_ROOMS.login(after.id)).emit(SOCKET_EVENTS.loginUpdate, toLoginView(after));
    // Decided, expired or replaced anywhere: every phone's inbox drops it.
    const waiting = after.status === "pending" || after.status === "scanned";
    if (after.push !== null && !waiting) {
      io.to(SOCKET_ROOMS.user(after.push.userId)).emit(SOCKET_EVENTS.pushResolved, { id: after.id });
    }
    // No QR frame after a decision, on any process: the desktops drawing it leave its QR room.
    const wasWaiting = before.status === "pending" || before.status === "scanned";
    if (after.push === null && wasWaiting && !waiting) {
      io.in(SOCKET_ROOMS.qrFrames(after.id)).socketsLeave(SOCKET_ROOMS.qrFrames(after.id));
    }
  });

  deps.pushEvents.subscribe(({ userId, review }) => {
    io.to(SOCKET_ROOMS.user(userId)).emit(SOCKET_EVENTS.pushRequest, review);
  });

  deps.sessionEvents.subscribe(({ session, reason }) => {
    const room = SOCKET_ROOMS.session(session.tokenHash);
    io.to(room).emit(SOCKET_EVENTS.sessionEnded, { reason });
    // Through the adapter, so sockets held by other processes leave too.
    io.in(room).socketsLeave(roomsGrantedBy(session));
  });
}
