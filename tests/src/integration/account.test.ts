import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type ActivityResponse,
  type ErrorResponse,
  type PasskeysResponse,
  type SessionsResponse,
} from "@countersign/shared";
import { approveOpened, createLogin, enrolPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

beforeEach(async () => {
  server = await startTestServer();
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "owner", displayName: "Owner" });
});

afterEach(async () => {
  await server.close();
});

/** A desktop signed in by the phone's approval, with a socket open as its page would have. */
async function signedInDesktop(): Promise<{ desktop: HttpClient; socket: DesktopSocket }> {
  const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  const login = await createLogin(desktop);
  expect((await approveOpened(phone, authenticator, await openFromQr(phone, login))).status).toBe(200);
  await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
  const socket = new DesktopSocket(server.origin, { cookie: desktop.cookieHeader });
  await socket.connected();
  return { desktop, socket };
}

describe("the account on the phone", () => {
  it("lists the person's sessions, marking the phone's own", async () => {
    const { socket } = await signedInDesktop();
    const listed = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
    expect(listed.status).toBe(200);
    expect(listed.body.sessions.map((session) => [session.kind, session.method, session.current])).toEqual([
      ["approver", "enrolment", true],
      ["desktop", "qr", false],
    ]);
    expect(listed.body.sessions[1]?.context).toMatchObject({ browser: "Chrome", os: "macOS Catalina" });
    socket.close();
  });

  it("revokes a desktop session: its page hears it live, the cookie stops working, and it is recorded", async () => {
    const { desktop, socket } = await signedInDesktop();
    const { body } = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
    const target = body.sessions.find((session) => session.kind === "desktop")!;
    const revoked = await phone.delete(API_PATHS.approverSessionById(target.id));
    expect(revoked.status).toBe(204);
    expect(await socket.waitForSessionEnded()).toEqual({ reason: "revoked" });
    expect((await desktop.get(API_PATHS.session)).status).toBe(401);
    const activity = await phone.get<ActivityResponse>(API_PATHS.approverActivity);
    expect(activity.body.activity[0]).toMatchObject({
      kind: "session_signed_out",
      detail: "revoked from Pixel 8 · Chrome",
    });
    expect((await phone.delete(API_PATHS.approverSessionById(target.id))).status).toBe(404);
    socket.close();
  });

  it("never lets one person see or revoke another person's sessions", async () => {
    const { socket } = await signedInDesktop();
    const { body } = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
    const target = body.sessions.find((session) => session.kind === "desktop")!;
    const stranger = new HttpClient(server.origin, { userAgent: PHONE_UA });
    await enrolPhone(stranger, new SoftAuthenticator({ origin: server.origin }), {
      username: "other",
      displayName: "Other",
    });
    expect((await stranger.get<SessionsResponse>(API_PATHS.approverSessions)).body.sessions).toHaveLength(1);
    const attempt = await stranger.delete(API_PATHS.approverSessionById(target.id));
    expect(attempt.status).toBe(404);
    expect(socket.sessionEnded).toEqual([]);
    socket.close();
  });

  it("lists passkeys and removes one, but never the last", async () => {
    const [only] = (await phone.get<PasskeysResponse>(API_PATHS.approverPasskeys)).body.passkeys;
    const refused = await phone.delete(API_PATHS.approverPasskey(only!.id));
    expect([refused.status, codeOf(refused.body)]).toEqual([409, "LAST_PASSKEY"]);

    await enrolPhone(phone, new SoftAuthenticator({ origin: server.origin }), { username: "owner", displayName: "x" });
    const passkeys = (await phone.get<PasskeysResponse>(API_PATHS.approverPasskeys)).body.passkeys;
    expect(passkeys).toHaveLength(2);
    // Removing a passkey that made no session leaves the phone signed in.
    expect((await phone.delete(API_PATHS.approverPasskey(passkeys[1]!.id))).status).toBe(204);
    expect((await phone.get<PasskeysResponse>(API_PATHS.approverPasskeys)).body.passkeys.map((p) => p.id)).toEqual([
      only!.id,
    ]);

    await enrolPhone(phone, new SoftAuthenticator({ origin: server.origin }), { username: "owner", displayName: "x" });
    const socket = new DesktopSocket(server.origin, { cookie: phone.cookieHeader });
    await socket.connected();
    expect((await phone.delete(API_PATHS.approverPasskey(only!.id))).status).toBe(204);
    // The phone's session came from the removed passkey: it ends with it, live.
    expect(await socket.waitForSessionEnded()).toEqual({ reason: "revoked" });
    socket.close();
    const after = await phone.get(API_PATHS.approverPasskeys);
    expect([after.status, codeOf(after.body)]).toEqual([401, "UNAUTHENTICATED"]);
    // The removed passkey can no longer approve anything.
    const login = await createLogin(new HttpClient(server.origin, { userAgent: DESKTOP_UA }));
    const result = await approveOpened(phone, authenticator, await openFromQr(phone, login));
    expect(codeOf(result.body)).toBe("UNKNOWN_CREDENTIAL");
  });

  it("shows activity newest first, with fraud reports flagged", async () => {
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const approved = await createLogin(desktop);
    await approveOpened(phone, authenticator, await openFromQr(phone, approved));
    const reported = await createLogin(desktop);
    const opened = await openFromQr(phone, reported);
    await phone.post(API_PATHS.loginDeny(reported.login.id), { qrToken: opened.qrToken, reason: "not_me" });
    const { body } = await phone.get<ActivityResponse>(API_PATHS.approverActivity);
    expect(body.activity.map((event) => [event.kind, event.loginRequestId])).toEqual([
      ["fraud_reported", reported.login.id],
      ["login_approved", approved.login.id],
      ["passkey_enrolled", null],
    ]);
    expect(body.activity[0]?.context).toMatchObject({ browser: "Chrome" });
  });

  it("answers 401 to anyone not signed in on a phone, including with a desktop cookie", async () => {
    const { desktop, socket } = await signedInDesktop();
    for (const client of [new HttpClient(server.origin, { userAgent: PHONE_UA }), desktop]) {
      for (const path of [API_PATHS.approverSessions, API_PATHS.approverActivity, API_PATHS.approverPasskeys]) {
        const response = await client.get(path);
        expect([response.status, codeOf(response.body)]).toEqual([401, "UNAUTHENTICATED"]);
      }
    }
    socket.close();
  });
});
