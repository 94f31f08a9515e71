import { QR_STEP_MS, SOCKET_ROOMS, type QrFrame } from "@countersign/shared";
import { describe, expect, it } from "vitest";
import { qrStepAt } from "../login-request/qr-token.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { loginRequestRecord } from "../testing/fixtures.js";
import { createQrFrameSender, type QrFrameSocket } from "./socket.qr-frames.js";

/** A socket that records what it is sent, in the rooms a test puts it in. */
function fakeSocket(rooms: string[]): QrFrameSocket & { sent: QrFrame[]; rooms: Set<string> } {
  const joined = new Set(rooms);
  const sent: QrFrame[] = [];
  return {
    sent,
    rooms: joined,
    emit: (_event, frame) => sent.push(frame),
    leave: (room) => joined.delete(room),
  };
}

function setup(options: { status?: "pending" | "scanned" | "approved"; push?: boolean } = {}) {
  const clock = createFakeClock();
  // None may outlive what it was for.
  const armed = (): number => clock.pendingTimers();
  const request = loginRequestRecord({
    clock,
    overrides: {
      id: "req1",
      status: options.status ?? "pending",
      ...(options.push === true
        ? { push: { userId: "u1", matchNumber: 42, choices: [17, 42, 88], delivered: true } }
        : {}),
    },
  });
  const room = SOCKET_ROOMS.qrFrames(request.id);
  const socket = fakeSocket([room]);
  const frameOf = (id: string): QrFrame => {
    const step = qrStepAt(clock.now());
    return { id, step, token: `token-${step}`, url: `https://x.test/approve/#/r/${id}.token-${step}` };
  };
  const sender = createQrFrameSender({ socket, clock, frameOf });
  return { clock, armed, request, room, socket, sender };
}

describe("QR frames on a desktop's socket", () => {
  it("answers the current frame, then sends the next one at the start of every step", () => {
    const { clock, request, socket, sender } = setup();
    clock.advance(700);
    const first = sender.follow(request);
    expect(first?.step).toBe(qrStepAt(clock.now()));
    clock.advance(QR_STEP_MS - 701);
    expect(socket.sent).toEqual([]);
    clock.advance(1);
    expect(socket.sent.map((frame) => frame.step)).toEqual([first!.step + 1]);
    clock.advance(QR_STEP_MS);
    clock.advance(QR_STEP_MS);
    expect(socket.sent.map((frame) => frame.step)).toEqual([first!.step + 1, first!.step + 2, first!.step + 3]);
  });

  it("sends one frame, the newest, when the clock jumps past several steps", () => {
    const { clock, request, socket, sender } = setup();
    const first = sender.follow(request)!;
    clock.advance(5 * QR_STEP_MS);
    expect(socket.sent.map((frame) => frame.step)).toEqual([first.step + 5]);
  });

  it("keeps sending while the request is scanned", () => {
    const { clock, request, socket, sender } = setup({ status: "scanned" });
    expect(sender.follow(request)).not.toBeNull();
    clock.advance(QR_STEP_MS);
    expect(socket.sent).toHaveLength(1);
  });

  it("sends nothing once the request's end took the socket out of the QR room, and arms no more timers", () => {
    const { clock, armed, request, room, socket, sender } = setup();
    sender.follow(request);
    clock.advance(QR_STEP_MS);
    socket.rooms.delete(room);
    clock.advance(5 * QR_STEP_MS);
    expect(socket.sent).toHaveLength(1);
    expect(armed()).toBe(0);
  });

  it("stops when the request's time is up, even if nobody wrote its expiry", () => {
    const { clock, armed, request, room, socket, sender } = setup();
    sender.follow(request);
    clock.advance(request.expiresAt - clock.now() - 1);
    const sent = socket.sent.length;
    clock.advance(10 * QR_STEP_MS);
    expect(socket.sent).toHaveLength(sent);
    expect(socket.rooms.has(room)).toBe(false);
    expect(armed()).toBe(0);
  });

  it("gives no frame for a decided request or a push request, and leaves the QR room", () => {
    for (const options of [{ status: "approved" as const }, { push: true }]) {
      const { clock, armed, request, room, socket, sender } = setup(options);
      expect(sender.follow(request)).toBeNull();
      expect(socket.rooms.has(room)).toBe(false);
      clock.advance(3 * QR_STEP_MS);
      expect(socket.sent).toEqual([]);
      expect(armed()).toBe(0);
    }
  });

  it("starts nothing for a socket that left the QR room while its watch was under way", () => {
    const { clock, armed, request, room, socket, sender } = setup();
    socket.rooms.delete(room);
    expect(sender.follow(request)).toBeNull();
    clock.advance(QR_STEP_MS);
    expect(socket.sent).toEqual([]);
    expect(armed()).toBe(0);
  });

  it("cancels a request's timer on stop, every timer on stopAll, and one per request on a second follow", () => {
    const { clock, armed, request, socket, sender } = setup();
    const other = { ...request, id: "req2" };
    socket.rooms.add(SOCKET_ROOMS.qrFrames(other.id));
    sender.follow(request);
    sender.follow(request);
    sender.follow(other);
    expect(armed()).toBe(2);
    sender.stop(request.id);
    expect(armed()).toBe(1);
    clock.advance(QR_STEP_MS);
    expect(socket.sent.map((frame) => frame.id)).toEqual(["req2"]);
    sender.stopAll();
    expect(armed()).toBe(0);
    clock.advance(3 * QR_STEP_MS);
    expect(socket.sent).toHaveLength(1);
  });
});
