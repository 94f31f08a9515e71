import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  QR_STEP_MS,
  SOCKET_EVENTS,
  type CreateLoginResponse,
  type CreatePushLoginResponse,
  type ErrorResponse,
  type LoginStatus,
  type OpenApprovalResponse,
  type QrFrame,
} from "@countersign/shared";
import { markerAfter } from "../support/barrier.js";
import { approveOpened, createLogin, enrolPhone, openFromQr, qrLinkOf, type ShownQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let desktop: HttpClient;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
let sockets: DesktopSocket[];

beforeEach(async () => {
  server = await startTestServer();
  desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  sockets = [];
});

afterEach(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

async function watching(login: CreateLoginResponse | CreatePushLoginResponse): Promise<{
  socket: DesktopSocket;
  qr: QrFrame | null;
}> {
  const socket = new DesktopSocket(server.origin);
  sockets.push(socket);
  await socket.connected();
  const ack = await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret });
  if (!ack.ok) throw new Error(`watch refused: ${JSON.stringify(ack.error)}`);
  return { socket, qr: ack.qr };
}

/** Moves the server's clock one step on and returns the frame the desktop's socket got for it. */
async function nextFrame(socket: DesktopSocket, after: QrFrame): Promise<QrFrame> {
  server.clock.advance(QR_STEP_MS);
  return socket.waitForFrame({ id: after.id, step: after.step + 1 });
}

const open = (shown: ShownQr) => phone.post<OpenApprovalResponse>(API_PATHS.approvalsOpen, qrLinkOf(shown));
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

describe("the QR changes every step", () => {
  it("refuses a QR token two steps old exactly like a wrong one, and opens with the current and the previous", async () => {
    const login = await createLogin(desktop);
    const { socket } = await watching(login);
    const second = await nextFrame(socket, login.qr);
    const third = await nextFrame(socket, second);
    expect(new Set([login.qr.token, second.token, third.token]).size).toBe(3);

    const stale = await open(login);
    const wrong = await phone.post(API_PATHS.approvalsOpen, { id: login.login.id, qrToken: "A".repeat(22) });
    expect(stale.status).toBe(404);
    expect(stale.body).toEqual(wrong.body);
    expect(codeOf(stale.body)).toBe("LOGIN_NOT_FOUND");
    expect((await server.store.getLoginRequest(login.login.id))?.status).toBe("pending");

    expect((await open(second)).status).toBe(200);
    expect((await open(third)).status).toBe(200);
  });

  it("accepts a frame up to the last millisecond of the step after its own, and not one after", async () => {
    const kept = await createLogin(desktop);
    const lapsed = await createLogin(desktop);
    server.clock.advance(2 * QR_STEP_MS - 1);
    expect((await open(kept)).status).toBe(200);
    server.clock.advance(1);
    expect((await open(lapsed)).status).toBe(404);
  });

  it("hands out a capability that still approves long after the frame that opened it is stale", async () => {
    await enrolPhone(phone, authenticator, { username: "slowpoke", displayName: "Slowpoke" });
    const login = await createLogin(desktop);
    const opened = await openFromQr(phone, login);
    expect(opened.qrToken).not.toBe(login.qr.token);
    server.clock.advance(30 * QR_STEP_MS);
    expect((await open(login)).status).toBe(404);

    const options = await phone.post(API_PATHS.loginApprovalOptions(login.login.id), { qrToken: opened.qrToken });
    expect(options.status, JSON.stringify(options.body)).toBe(200);
    const approved = await approveOpened(phone, authenticator, opened);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  });

  it("never takes a frame as the capability, nor the capability as a frame", async () => {
    await enrolPhone(phone, authenticator, { username: "mixer", displayName: "Mixer" });
    const login = await createLogin(desktop);
    const opened = await openFromQr(phone, login);
    const frame = { qrToken: login.qr.token };
    const id = login.login.id;

    expect(codeOf((await phone.post(API_PATHS.loginApprovalOptions(id), frame)).body)).toBe("LOGIN_NOT_FOUND");
    expect(codeOf((await phone.post(API_PATHS.loginDeny(id), { ...frame, reason: "not_me" })).body)).toBe(
      "LOGIN_NOT_FOUND",
    );
    const approveWithFrame = await approveOpened(phone, authenticator, { ...opened, qrToken: login.qr.token });
    expect(codeOf(approveWithFrame.body)).toBe("LOGIN_NOT_FOUND");
    const openWithCapability = await phone.post(API_PATHS.approvalsOpen, { id, qrToken: opened.qrToken });
    expect(codeOf(openWithCapability.body)).toBe("LOGIN_NOT_FOUND");
    expect((await server.store.getLoginRequest(id))?.status).toBe("scanned");
  });

  it("keeps the typed code working for as long as the request waits, whatever the step", async () => {
    const login = await createLogin(desktop);
    server.clock.advance(20 * QR_STEP_MS);
    const opened = await phone.post<OpenApprovalResponse>(API_PATHS.approvalsOpen, { userCode: login.userCode });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    const options = await phone.post(API_PATHS.loginApprovalOptions(login.login.id), { qrToken: opened.body.qrToken });
    expect(options.status).toBe(200);
  });
});

describe("frames over the desktop's socket", () => {
  it("acknowledges a watch with the current frame, then pushes a new one every step, each opening the request", async () => {
    const login = await createLogin(desktop);
    server.clock.advance(QR_STEP_MS / 2);
    const { socket, qr } = await watching(login);
    expect(qr).toEqual(login.qr);
    expect(qr!.url).toBe(`${server.origin}/approve/#/r/${login.login.id}.${qr!.token}`);

    let frame = qr!;
    for (let round = 0; round < 3; round += 1) {
      frame = await nextFrame(socket, frame);
      expect(frame).toMatchObject({ id: login.login.id, step: login.qr.step + round + 1 });
      expect(qrLinkOf(frame)).toEqual({ id: login.login.id, qrToken: frame.token });
      expect((await open(frame)).status).toBe(200);
    }
    expect(socket.framesOf(login.login.id).map((each) => each.step)).toEqual([1, 2, 3].map((n) => login.qr.step + n));
  });

  it("resumes with the current frame when a desktop watches again later (a reload)", async () => {
    const login = await createLogin(desktop);
    server.clock.advance(5 * QR_STEP_MS);
    const { qr } = await watching(login);
    expect(qr?.step).toBe(login.qr.step + 5);
    expect((await open(qr!)).status).toBe(200);
  });

  const endings: { status: LoginStatus; end: (login: CreateLoginResponse) => Promise<void> }[] = [
    {
      status: "cancelled",
      end: async (login) => {
        const response = await desktop.post(API_PATHS.loginCancel(login.login.id), {
          desktopSecret: login.desktopSecret,
        });
        expect(response.status).toBe(200);
      },
    },
    {
      status: "approved",
      end: async (login) => {
        await enrolPhone(phone, authenticator, { username: "ender", displayName: "Ender" });
        expect((await approveOpened(phone, authenticator, await openFromQr(phone, login))).status).toBe(200);
      },
    },
    {
      status: "expired",
      end: async (login) => {
        server.clock.advance(login.login.expiresAt - server.clock.now());
      },
    },
  ];
  for (const ending of endings) {
    it(`sends no frame once the request is ${ending.status}`, async () => {
      const login = await createLogin(desktop);
      const { socket } = await watching(login);
      const frame = await nextFrame(socket, login.qr);

      await ending.end(login);
      await socket.waitForStatus(ending.status);
      await markerAfter({ origin: server.origin, sockets: [socket] }, async () => {
        for (let round = 0; round < 3; round += 1) server.clock.advance(QR_STEP_MS);
      });
      expect(socket.framesOf(login.login.id)).toEqual([frame]);
    });
  }

  it("stops sending when the desktop unwatches, or disconnects, and leaves no timer behind", async () => {
    const first = await createLogin(desktop);
    const second = await createLogin(desktop);
    const timersBefore = server.clock.pendingTimers();
    const { socket } = await watching(first);
    const other = await watching(second);
    // One frame timer per watch; the expiry timers were armed when the requests were made.
    expect(server.clock.pendingTimers()).toBe(timersBefore + 2);

    const unwatched = await socket.socket
      .timeout(5_000)
      .emitWithAck(SOCKET_EVENTS.loginUnwatch, { id: first.login.id });
    expect(unwatched).toEqual({ ok: true });
    expect(server.clock.pendingTimers()).toBe(timersBefore + 1);
    other.socket.close();
    // The server hears the disconnect in its own time; the frame timer goes with the socket.
    await expect.poll(() => server.clock.pendingTimers()).toBe(timersBefore);

    await markerAfter({ origin: server.origin, sockets: [socket] }, async () => {
      server.clock.advance(QR_STEP_MS);
    });
    expect(socket.framesOf(first.login.id)).toEqual([]);
  });

  it("sends no frames for a push request: it has no QR", async () => {
    await enrolPhone(phone, authenticator, { username: "pusher", displayName: "Pusher" });
    const created = await desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username: "pusher" });
    expect(created.status).toBe(201);
    const { socket, qr } = await watching(created.body);
    expect(qr).toBeNull();
    await markerAfter({ origin: server.origin, sockets: [socket] }, async () => {
      server.clock.advance(3 * QR_STEP_MS);
    });
    expect(socket.framesOf(created.body.login.id)).toEqual([]);
  });
});
