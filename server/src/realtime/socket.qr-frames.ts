import { QR_STEP_MS, SOCKET_EVENTS, SOCKET_ROOMS, type QrFrame } from "@countersign/shared";
import type { Clock, TimerHandle } from "../clock.js";
import type { LoginRequestRecord } from "../store/store.js";

/** What the sender needs of a socket: to send it a frame, and whether it is still in a room. */
export interface QrFrameSocket {
  emit(event: typeof SOCKET_EVENTS.loginQr, frame: QrFrame): unknown;
  readonly rooms: ReadonlySet<string>;
  leave(room: string): unknown;
}

/**
 * The QR frames of the requests one socket watches: a new frame at the start of every step, on
 * the injected clock, while the request waits for a phone (pending or scanned).
 *
 * Each process sends frames only to the sockets it holds, from the shared key: no frame is stored
 * or broadcast, and any process verifies a frame another one sent. Whether frames are still wanted
 * is the socket's membership of the request's QR room (SOCKET_ROOMS.qrFrames), which the request's
 * end, on whichever process it happens, takes it out of through the adapter.
 */
export interface QrFrameSender {
  /**
   * Starts (or restarts) the frames of a request this socket has just proven and joined the QR
   * room of, read after joining; answers its current frame, or null (and leaves the room) if the
   * request has no QR to show: a push request, or one no longer waiting for a phone, or if the
   * socket is no longer in the room (it disconnected or unwatched meanwhile).
   */
  follow(request: LoginRequestRecord): QrFrame | null;
  /** Stops a request's frames (the socket unwatched it). */
  stop(id: string): void;
  /** Stops every frame (the socket disconnected): no timer outlives its socket. */
  stopAll(): void;
}

export function createQrFrameSender(deps: {
  socket: QrFrameSocket;
  clock: Clock;
  /** The current frame of a request, on `clock`. */
  frameOf: (id: string) => QrFrame;
}): QrFrameSender {
  const { socket, clock } = deps;
  const timers = new Map<string, TimerHandle>();

  function stop(id: string): void {
    timers.get(id)?.cancel();
    timers.delete(id);
  }

  function follow(request: LoginRequestRecord): QrFrame | null {
    const { id, expiresAt } = request;
    const room = SOCKET_ROOMS.qrFrames(id);
    stop(id);
    const waiting = request.status === "pending" || request.status === "scanned";
    if (request.push !== null || !waiting || !socket.rooms.has(room)) {
      void socket.leave(room);
      return null;
    }
    const first = deps.frameOf(id);
    let lastStep = first.step;
    const arm = (step: number): void => {
      timers.set(id, clock.schedule(tick, (step + 1) * QR_STEP_MS - clock.now()));
    };
    function tick(): void {
      // Decided, cancelled or expired (its end took the socket out of the room), or its time is
      // up before anyone wrote it: no frame after that.
      if (!socket.rooms.has(room) || clock.now() >= expiresAt) {
        timers.delete(id);
        void socket.leave(room);
        return;
      }
      const frame = deps.frameOf(id);
      // A timer may fire a little early, or late past several steps: one frame per step, the newest.
      if (frame.step > lastStep) {
        lastStep = frame.step;
        socket.emit(SOCKET_EVENTS.loginQr, frame);
      }
      arm(frame.step);
    }
    arm(first.step);
    return first;
  }

  return {
    follow,
    stop,
    stopAll() {
      for (const timer of timers.values()) timer.cancel();
      timers.clear();
    },
  };
}
