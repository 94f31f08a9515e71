import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  PUSH_PAUSE_MS,
  type ActivityResponse,
  type CreatePushLoginResponse,
  type DenyResponse,
  type ErrorResponse,
  type PasskeysResponse,
  type SessionsResponse,
  type SignOutComputersResponse,
} from "@countersign/shared";
import type { SessionRecord } from "@countersign/server";
import { approveOpened, createLogin, enrolPhone, joinSecondPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const IPAD_UA =
  "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
let userId: string;
const sockets: { close(): void }[] = [];
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

beforeEach(async () => {
  server = await startTestServer();
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  userId = (await enrolPhone(phone, authenticator, { username: "olu", displayName: "Olu" })).user.id;
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await server.close();
});

/** A computer signed in by approving its QR on `approver`, with its page's socket open. */
async function signedInComputer(
  approver: HttpClient = phone,
  held: SoftAuthenticator = authenticator,
): Promise<{ desktop: HttpClient; socket: DesktopSocket }> {
  const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  const login = await createLogin(desktop);
  expect((await approveOpened(approver, held, await openFromQr(approver, login))).status).toBe(200);
  const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
  expect(redeemed.status).toBe(200);
  const socket = new DesktopSocket(server.origin, { cookie: desktop.cookieHeader });
  sockets.push(socket);
  await socket.connected();
  return { desktop, socket };
}

/** The stored session behind a client's approver cookie, found through the account list. */
async function storedSessionOf(client: HttpClient): Promise<SessionRecord> {
  const listed = await client.get<SessionsResponse>(API_PATHS.approverSessions);
  expect(listed.status).toBe(200);
  const current = listed.body.sessions.find((session) => session.current)!;
  const stored = (await server.store.listSessions(userId)).find((session) => session.id === current.id);
  expect(stored).toBeDefined();
  return stored!;
}

/** The phone has notifications on: its session carries a push subscription. */
async function subscribe(client: HttpClient, endpoint: string): Promise<SessionRecord> {
  const session = await storedSessionOf(client);
  const updated = await server.store.setSessionPushSubscription({
    tokenHash: session.tokenHash,
    subscription: {
      endpoint,
      keys: { p256dh: "B".repeat(87), auth: "A".repeat(22) },
      createdAt: server.clock.now(),
    },
  });
  expect(updated?.pushSubscription?.endpoint).toBe(endpoint);
  return updated!;
}

describe("sign out every computer", () => {
  it("ends only the computers' sessions, their pages hear it, and it is one line of activity", async () => {
    const second = new HttpClient(server.origin, { userAgent: IPAD_UA });
    await joinSecondPhone(phone, second, new SoftAuthenticator({ origin: server.origin }));
    const first = await signedInComputer();
    const other = await signedInComputer();

    const answer = await phone.post<SignOutComputersResponse>(API_PATHS.approverSignOutComputers);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ signedOut: 2 });
    expect(await first.socket.waitForSessionEnded()).toEqual({ reason: "revoked" });
    expect(await other.socket.waitForSessionEnded()).toEqual({ reason: "revoked" });
    expect((await first.desktop.get(API_PATHS.session)).status).toBe(401);
    expect((await other.desktop.get(API_PATHS.session)).status).toBe(401);

    // Both phones stay signed in.
    expect((await phone.get(API_PATHS.approverSession)).status).toBe(200);
    expect((await second.get(API_PATHS.approverSession)).status).toBe(200);
    const listed = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
    expect(listed.body.sessions.map((session) => session.kind)).toEqual(["approver", "approver"]);

    const activity = await phone.get<ActivityResponse>(API_PATHS.approverActivity);
    expect(activity.body.activity.filter((event) => event.kind === "session_signed_out")).toEqual([
      expect.objectContaining({ detail: "2 computers signed out from Pixel 8 · Chrome" }),
    ]);

    const again = await phone.post<SignOutComputersResponse>(API_PATHS.approverSignOutComputers);
    expect(again.body).toEqual({ signedOut: 0 });
  });

  it("needs the phone's own session: a computer's cookie or none is refused", async () => {
    const { desktop, socket } = await signedInComputer();
    for (const client of [desktop, new HttpClient(server.origin, { userAgent: PHONE_UA })]) {
      const refused = await client.post(API_PATHS.approverSignOutComputers);
      expect([refused.status, codeOf(refused.body)]).toEqual([401, "UNAUTHENTICATED"]);
    }
    expect((await desktop.get(API_PATHS.session)).status).toBe(200);
    expect(socket.sessionEnded).toEqual([]);
  });
});

describe("a deny answer says whether pushes are now paused", () => {
  async function push(): Promise<CreatePushLoginResponse> {
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const response = await desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username: "olu" });
    expect(response.status).toBe(201);
    return response.body;
  }

  it("for a push: paused until 20 minutes on after 'This wasn't me', null after a plain cancel", async () => {
    const cancelled = await phone.post<DenyResponse>(API_PATHS.pushDeny((await push()).login.id), {
      reason: "cancelled",
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ review: { status: "denied" }, pushesPausedUntil: null });

    const reported = await phone.post<DenyResponse>(API_PATHS.pushDeny((await push()).login.id), { reason: "not_me" });
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({
      review: { status: "denied" },
      pushesPausedUntil: server.clock.now() + PUSH_PAUSE_MS,
    });
  });

  it("for a QR request: paused for a signed-in phone's report, null for a phone not signed in", async () => {
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const anonymous = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const first = await createLogin(desktop);
    const opened = await openFromQr(anonymous, first);
    const unsigned = await anonymous.post<DenyResponse>(API_PATHS.loginDeny(first.login.id), {
      qrToken: opened.qrToken,
      reason: "not_me",
    });
    expect(unsigned.status).toBe(200);
    expect(unsigned.body).toMatchObject({ review: { status: "denied" }, pushesPausedUntil: null });

    const second = await createLogin(desktop);
    const reopened = await openFromQr(phone, second);
    const reported = await phone.post<DenyResponse>(API_PATHS.loginDeny(second.login.id), {
      qrToken: reopened.qrToken,
      reason: "not_me",
    });
    expect(reported.status).toBe(200);
    expect(reported.body.pushesPausedUntil).toBe(server.clock.now() + PUSH_PAUSE_MS);
  });
});

describe("removing a passkey", () => {
  it("ends every session it made, with their push subscriptions, and nothing else", async () => {
    const tablet = new HttpClient(server.origin, { userAgent: IPAD_UA });
    const tabletKey = new SoftAuthenticator({ origin: server.origin });
    await joinSecondPhone(phone, tablet, tabletKey);
    await subscribe(phone, "https://push.example.test/phone");
    const tabletSession = await subscribe(tablet, "https://push.example.test/tablet");
    const approvedByTablet = await signedInComputer(tablet, tabletKey);
    const tabletPasskeyId = tabletSession.source.credentialId;

    const sessions = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
    expect(
      sessions.body.sessions.map(({ kind, passkeyId, notifications }) => ({ kind, passkeyId, notifications })),
    ).toEqual(
      expect.arrayContaining([
        { kind: "approver", passkeyId: tabletPasskeyId, notifications: true },
        { kind: "desktop", passkeyId: tabletPasskeyId, notifications: false },
      ]),
    );
    const passkeys = await phone.get<PasskeysResponse>(API_PATHS.approverPasskeys);
    expect(passkeys.body.passkeys.find((passkey) => passkey.id === tabletPasskeyId)).toMatchObject({
      current: false,
      sessionCount: 2,
    });

    const removed = await phone.delete(API_PATHS.approverPasskey(tabletPasskeyId));
    expect(removed.status).toBe(204);
    expect(await approvedByTablet.socket.waitForSessionEnded()).toEqual({ reason: "revoked" });
    expect((await tablet.get(API_PATHS.approverSession)).status).toBe(401);
    expect((await approvedByTablet.desktop.get(API_PATHS.session)).status).toBe(401);

    // Whatever sends notifications finds the tablet's subscription gone with its session; the
    // phone's own is untouched.
    const left = await server.store.listSessions(userId);
    expect(left.map((session) => session.pushSubscription?.endpoint ?? null)).toEqual([
      "https://push.example.test/phone",
    ]);
    expect(await server.store.getSession(tabletSession.tokenHash)).toBeNull();
  });
});

describe("the account lists", () => {
  it("show when each session was last used, which passkey made it, and which passkey is this phone's", async () => {
    const computer = await signedInComputer();
    const signedInAt = server.clock.now();
    // Two hours on, the phone is used again: its session moves, the computer's does not.
    server.clock.advance(2 * 3600_000);
    expect((await phone.get(API_PATHS.approverSession)).status).toBe(200);
    const listed = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
    const [own, desktop] = listed.body.sessions;
    const passkeys = await phone.get<PasskeysResponse>(API_PATHS.approverPasskeys);
    const [passkey] = passkeys.body.passkeys;
    expect(own).toMatchObject({
      kind: "approver",
      current: true,
      lastSeenAt: server.clock.now(),
      passkeyId: passkey!.id,
      notifications: false,
    });
    expect(desktop).toMatchObject({
      kind: "desktop",
      current: false,
      lastSeenAt: signedInAt,
      passkeyId: passkey!.id,
      notifications: false,
    });
    expect(passkeys.body.passkeys).toEqual([expect.objectContaining({ current: true, sessionCount: 2 })]);
    expect(computer.socket.sessionEnded).toEqual([]);
  });
});
