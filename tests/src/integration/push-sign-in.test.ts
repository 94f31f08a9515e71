import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  PUSH_PAUSE_MS,
  type ActivityResponse,
  type CreatePushLoginResponse,
  type ErrorResponse,
  type InboxResponse,
  type PushMatchResponse,
  type SessionResponse,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { markerAfter } from "../support/barrier.js";
import { enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { ApproverSocket, DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { RELAXED_RATE_LIMITS, startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
let desktop: HttpClient;
const sockets: { close(): void }[] = [];
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

async function start(rateLimits = RELAXED_RATE_LIMITS): Promise<void> {
  server = await startTestServer({ rateLimits });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  await enrolPhone(phone, authenticator, { username: "pia", displayName: "Pia" });
}

async function approverSocket(client: HttpClient): Promise<ApproverSocket> {
  const socket = new ApproverSocket(server.origin, { cookie: client.cookieHeader });
  sockets.push(socket);
  await socket.connected();
  return socket;
}

async function push(username = "pia"): Promise<CreatePushLoginResponse> {
  const response = await desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

async function watch(created: CreatePushLoginResponse): Promise<DesktopSocket> {
  const socket = new DesktopSocket(server.origin);
  sockets.push(socket);
  await socket.connected();
  const ack = await socket.watch({ id: created.login.id, desktopSecret: created.desktopSecret });
  expect(ack).toMatchObject({ ok: true, login: { id: created.login.id, status: "pending" } });
  return socket;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await server.close();
});

describe("push sign-in with number matching", () => {
  beforeEach(() => start());

  it("reaches every approver socket of its person and no one else's", async () => {
    const other = new HttpClient(server.origin, { userAgent: PHONE_UA });
    await enrolPhone(other, new SoftAuthenticator({ origin: server.origin }), { username: "ola", displayName: "Ola" });
    const [first, second, stranger] = await Promise.all([
      approverSocket(phone),
      approverSocket(phone),
      approverSocket(other),
    ]);
    // After the marker, what each socket holds is all it will ever get from this push.
    const created = await markerAfter({ origin: server.origin, sockets: [first, second, stranger] }, () => push());
    for (const socket of [first, second]) {
      expect(socket.requests.map((review) => review.id)).toEqual([created.login.id]);
      expect(socket.requests[0]?.choices).toContain(created.matchNumber);
      expect(new Set(socket.requests[0]?.choices).size).toBe(3);
    }
    expect(stranger.requests).toEqual([]);
    const inbox = await phone.get<InboxResponse>(API_PATHS.approverInbox);
    expect(inbox.status).toBe(200);
    expect(inbox.body.requests.map((review) => review.id)).toEqual([created.login.id]);
    const strangersInbox = await other.get<InboxResponse>(API_PATHS.approverInbox);
    expect([strangersInbox.status, strangersInbox.body.requests]).toEqual([200, []]);
  });

  it("the right number, then the passkey: the desktop sees it live and redeems a session", async () => {
    const created = await push();
    const socket = await watch(created);
    const matched = await phone.post<PushMatchResponse>(API_PATHS.pushMatch(created.login.id), {
      choice: created.matchNumber,
    });
    expect(matched.status, JSON.stringify(matched.body)).toBe(200);
    if (!matched.body.matched) throw new Error("the right number did not match");
    await socket.waitForStatus("scanned");
    const credential = await authenticator.getAssertion(
      matched.body.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const approved = await phone.post(API_PATHS.pushApprove(created.login.id), {
      ceremonyId: matched.body.approval.ceremonyId,
      credential,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await socket.waitForStatus("approved");
    const redeemed = await desktop.post(API_PATHS.loginRedeem(created.login.id), {
      desktopSecret: created.desktopSecret,
    });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    await socket.waitForStatus("redeemed");
    const session = await desktop.get<SessionResponse>(API_PATHS.session);
    expect(session.status).toBe(200);
    expect(session.body.session).toMatchObject({ kind: "desktop", user: { username: "pia" } });
  });

  it("a wrong number denies with number_mismatch, recorded in the activity", async () => {
    const created = await push();
    const socket = await watch(created);
    const wrong = created.matchNumber === 99 ? 98 : created.matchNumber + 1;
    const result = await phone.post<PushMatchResponse>(API_PATHS.pushMatch(created.login.id), { choice: wrong });
    expect([result.status, result.body.matched]).toEqual([200, false]);
    expect((await socket.waitForStatus("denied")).denyReason).toBe("number_mismatch");
    const activity = await phone.get<ActivityResponse>(API_PATHS.approverActivity);
    expect(activity.status).toBe(200);
    expect(activity.body.activity[0]).toMatchObject({ kind: "login_denied", detail: "number_mismatch" });
    const late = await phone.post(API_PATHS.pushMatch(created.login.id), { choice: created.matchNumber });
    expect([late.status, codeOf(late.body)]).toEqual([409, "LOGIN_CONFLICT"]);
  });

  it("a newer push supersedes the pending one: its desktop sees superseded, the inbox holds the newest", async () => {
    const approver = await approverSocket(phone);
    const older = await push();
    const olderSocket = await watch(older);
    const newer = await markerAfter({ origin: server.origin, sockets: [approver] }, () => push());
    await olderSocket.waitForStatus("superseded");
    expect(approver.requests.map((review) => review.id)).toEqual([older.login.id, newer.login.id]);
    expect(approver.resolved).toEqual([older.login.id]);
    const inbox = await phone.get<InboxResponse>(API_PATHS.approverInbox);
    expect(inbox.status).toBe(200);
    expect(inbox.body.requests.map((review) => review.id)).toEqual([newer.login.id]);
  });

  it("pauses pushes for 20 minutes after 'This wasn't me', with the same answer to the desktop", async () => {
    const approver = await approverSocket(phone);
    const reported = await push();
    const denied = await phone.post(API_PATHS.pushDeny(reported.login.id), { reason: "not_me" });
    expect(denied.status).toBe(200);
    const activity = await phone.get<ActivityResponse>(API_PATHS.approverActivity);
    expect(activity.status).toBe(200);
    expect(activity.body.activity[0]).toMatchObject({ kind: "fraud_reported" });

    const paused = await markerAfter({ origin: server.origin, sockets: [approver] }, () => push());
    expect(Object.keys(paused).sort()).toEqual(Object.keys(reported).sort());
    server.clock.advance(PUSH_PAUSE_MS - 1);
    await markerAfter({ origin: server.origin, sockets: [approver] }, () => push());
    expect(approver.requests.map((review) => review.id)).toEqual([reported.login.id]);
    server.clock.advance(1);
    const resumed = await push();
    await approver.waitUntil(
      () => approver.requests.some((review) => review.id === resumed.login.id),
      "the push once the pause is over",
    );
    expect(approver.requests.map((review) => review.id)).toEqual([reported.login.id, resumed.login.id]);
  });

  it("gives known and unknown usernames the same response shape, and delivers nothing for unknown ones", async () => {
    const approver = await approverSocket(phone);
    const [known, unknown] = await markerAfter(
      { origin: server.origin, sockets: [approver] },
      async () => [await push("pia"), await push("nobody-here")] as const,
    );
    const shape = (value: unknown): unknown =>
      value !== null && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]))
        : typeof value;
    expect(shape(unknown)).toEqual(shape(known));
    expect(approver.requests.map((review) => review.id)).toEqual([known.login.id]);
  });

  it("is only for its person's signed-in phones: no QR token, typed code or other account opens it", async () => {
    const created = await push();
    const other = new HttpClient(server.origin, { userAgent: PHONE_UA });
    await enrolPhone(other, new SoftAuthenticator({ origin: server.origin }), { username: "eve", displayName: "Eve" });
    const stranger = await other.post(API_PATHS.pushMatch(created.login.id), { choice: created.matchNumber });
    expect([stranger.status, codeOf(stranger.body)]).toEqual([404, "LOGIN_NOT_FOUND"]);
    const record = await server.store.getLoginRequest(created.login.id);
    const byCode = await other.post(API_PATHS.approvalsOpen, { userCode: record!.userCode });
    expect(byCode.status).toBe(404);
    const signedOut = new HttpClient(server.origin, { userAgent: PHONE_UA });
    expect((await signedOut.post(API_PATHS.pushMatch(created.login.id), { choice: 10 })).status).toBe(401);
    expect((await server.store.getLoginRequest(created.login.id))?.status).toBe("pending");
  });
});

describe("push limits", () => {
  beforeEach(() => start({ ...RELAXED_RATE_LIMITS, pushToUser: { points: 3, durationSeconds: 600 } }));

  it("reaches the phone at most 3 times in 10 minutes; the desktop's answer does not change", async () => {
    const approver = await approverSocket(phone);
    const answers = await markerAfter({ origin: server.origin, sockets: [approver] }, async () => {
      const created = [];
      for (let attempt = 0; attempt < 4; attempt += 1) created.push(await push());
      return created;
    });
    expect(approver.requests.map((review) => review.id)).toEqual(answers.slice(0, 3).map((answer) => answer.login.id));
    expect(answers.every((answer) => answer.login.status === "pending")).toBe(true);
  });
});
