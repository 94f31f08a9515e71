import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API_PATHS, REDEEM_WINDOW_MS, type ErrorResponse, type SessionResponse } from "@countersign/shared";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { approveOpened, createLogin, enrolPhone, openFromQr, qrLinkOf } from "../support/flows.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let desktop: HttpClient;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
let sockets: DesktopSocket[];

/** What the store keeps instead of a secret: its SHA-256, base64url. */
const sha256 = (secret: string): string => createHash("sha256").update(secret).digest("base64url");

async function watchingSocket(login: { login: { id: string }; desktopSecret: string }): Promise<DesktopSocket> {
  const socket = new DesktopSocket(server.origin, { cookie: desktop.cookieHeader });
  sockets.push(socket);
  await socket.connected();
  const ack = await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret });
  expect(ack.ok).toBe(true);
  return socket;
}

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

describe("QR sign-in, end to end through the server", () => {
  it("enrols, then signs the desktop in: scanned then approved on its socket, redeem, session, sign out", async () => {
    const enrolled = await enrolPhone(phone, authenticator, { username: "Ana", displayName: "Ana Silva" });
    expect(enrolled.user).toMatchObject({ username: "ana", displayName: "Ana Silva" });
    expect(enrolled.passkey.label).toBe("Pixel 8 · Chrome");

    const login = await createLogin(desktop);
    expect(login.login.status).toBe("pending");
    // The first frame of the QR, as a link: the page draws it (and the next frames) itself.
    expect(login.qr).toMatchObject({ id: login.login.id, token: expect.stringMatching(/^[\w-]{22}$/) });
    expect(login.qr.url).toBe(`${server.origin}/approve/#/r/${login.login.id}.${login.qr.token}`);
    expect(login.userCode).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    const socket = await watchingSocket(login);

    const opened = await openFromQr(phone, login);
    expect(opened.review.desktop).toMatchObject({
      browser: "Chrome",
      os: "macOS Catalina",
      deviceType: "desktop",
      ip: "127.0.0.1",
    });
    expect(opened.review.risks).toEqual([]);
    const scanned = await socket.waitForStatus("scanned");
    expect(scanned.scannedBy).toMatchObject({ label: "Pixel 8 · Chrome", deviceType: "mobile" });

    const approved = await approveOpened(phone, authenticator, opened);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.user.username).toBe("ana");
    const approvedView = await socket.waitForStatus("approved");
    expect(approvedView.redeemBy).toBe(server.clock.now() + REDEEM_WINDOW_MS);
    expect(socket.statuses()).toEqual(["scanned", "approved"]);
    expect(socket.updates.map((update) => update.version)).toEqual([2, 3]);

    const redeemed = await desktop.post<SessionResponse>(API_PATHS.loginRedeem(login.login.id), {
      desktopSecret: login.desktopSecret,
    });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    const setCookie = redeemed.headers.getSetCookie().join("\n");
    expect(setCookie).toMatch(/cs-desktop=.+; .*HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    await socket.waitForStatus("redeemed");

    const session = await desktop.get<SessionResponse>(API_PATHS.session);
    expect(session.status).toBe(200);
    expect(session.body.session).toMatchObject({
      kind: "desktop",
      user: { username: "ana", displayName: "Ana Silva" },
      context: { browser: "Chrome", deviceType: "desktop" },
      approvedWith: {
        loginRequestId: login.login.id,
        passkeyLabel: "Pixel 8 · Chrome",
        approverDevice: "Pixel 8 · Chrome",
      },
    });

    // The desktop page's socket, opened with the new cookie, hears its own sign-out.
    const signedInSocket = new DesktopSocket(server.origin, { cookie: desktop.cookieHeader });
    sockets.push(signedInSocket);
    await signedInSocket.connected();
    const signOut = await desktop.delete(API_PATHS.session);
    expect(signOut.status).toBe(204);
    expect(await signedInSocket.waitForSessionEnded()).toEqual({ reason: "signed_out" });
    expect((await desktop.get(API_PATHS.session)).status).toBe(401);
  });

  it("stores only hashes of the desktop secret and the session token", async () => {
    await enrolPhone(phone, authenticator, { username: "hash", displayName: "Hash" });
    const login = await createLogin(desktop);
    const stored = JSON.stringify(await server.store.getLoginRequest(login.login.id));
    expect(stored).not.toContain(login.desktopSecret);
    expect(stored).toContain(sha256(login.desktopSecret));
    const opened = await openFromQr(phone, login);
    const approved = await approveOpened(phone, authenticator, opened);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);

    const token = desktop.cookies.get("cs-desktop");
    expect(token, "the session cookie").toEqual(expect.stringMatching(/^[\w-]{20,}$/));
    // Found by its hash (so the session is there), never by the token itself.
    expect(await server.store.getSession(sha256(token!))).toMatchObject({ kind: "desktop" });
    expect(await server.store.getSession(token!)).toBeNull();
    expect((await desktop.get(API_PATHS.session)).status).toBe(200);
  });

  it("lets a phone open the request by its typed user code", async () => {
    await enrolPhone(phone, authenticator, { username: "typist", displayName: "Typist" });
    const login = await createLogin(desktop);
    const socket = await watchingSocket(login);
    const typed = login.userCode.toLowerCase().replace("-", " ");
    const opened = await phone.post<{ review: { id: string }; qrToken: string }>(API_PATHS.approvalsOpen, {
      userCode: typed,
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect(opened.body.review.id).toBe(login.login.id);
    // Not the QR's frame: the capability the next steps take.
    expect(opened.body.qrToken).not.toBe(qrLinkOf(login).qrToken);
    await socket.waitForStatus("scanned");
    const options = await phone.post(API_PATHS.loginApprovalOptions(login.login.id), { qrToken: opened.body.qrToken });
    expect(options.status, JSON.stringify(options.body)).toBe(200);
  });

  it("shows a denial with its reason on the desktop socket, and refuses approval afterwards with 409", async () => {
    await enrolPhone(phone, authenticator, { username: "den", displayName: "Den" });
    const login = await createLogin(desktop);
    const socket = await watchingSocket(login);
    const opened = await openFromQr(phone, login);
    const denied = await phone.post(API_PATHS.loginDeny(login.login.id), { qrToken: opened.qrToken, reason: "not_me" });
    expect(denied.status).toBe(200);
    const view = await socket.waitForStatus("denied");
    expect(view.denyReason).toBe("not_me");

    const late = await approveOpened(phone, authenticator, opened);
    expect(late.status).toBe(409);
    expect((late.body as unknown as ErrorResponse).error.code).toBe("LOGIN_CONFLICT");
    // The enrolled phone's "This wasn't me" is a fraud report in its owner's activity.
    const user = await server.store.findUserByUsername("den");
    const activity = await server.store.listActivity(user!.id);
    expect(activity[0]).toMatchObject({ kind: "fraud_reported", loginRequestId: login.login.id });
  });

  it("expires through the injected clock, tells the desktop, and refuses a later approval with 410", async () => {
    await enrolPhone(phone, authenticator, { username: "late", displayName: "Late" });
    const login = await createLogin(desktop);
    const socket = await watchingSocket(login);
    const opened = await openFromQr(phone, login);
    server.clock.advance(120_000);
    const expired = await socket.waitForStatus("expired");
    expect(expired.version).toBe(3);

    const late = await approveOpened(phone, authenticator, opened);
    expect(late.status).toBe(410);
    expect((late.body as unknown as ErrorResponse).error.code).toBe("LOGIN_EXPIRED");
  });

  it("expires an approval that the desktop does not redeem within the window", async () => {
    await enrolPhone(phone, authenticator, { username: "slow", displayName: "Slow" });
    const login = await createLogin(desktop);
    const socket = await watchingSocket(login);
    const opened = await openFromQr(phone, login);
    expect((await approveOpened(phone, authenticator, opened)).status).toBe(200);
    server.clock.advance(REDEEM_WINDOW_MS);
    await socket.waitForStatus("expired");
    const redeem = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
    expect(redeem.status).toBe(410);
    expect(desktop.cookies.size).toBe(0);
  });

  it("lets the desktop cancel a pending request", async () => {
    const login = await createLogin(desktop);
    const socket = await watchingSocket(login);
    const cancelled = await desktop.post(API_PATHS.loginCancel(login.login.id), { desktopSecret: login.desktopSecret });
    expect(cancelled.status).toBe(200);
    await socket.waitForStatus("cancelled");
    const opened = await phone.post(API_PATHS.approvalsOpen, qrLinkOf(login));
    expect([opened.status, (opened.body as ErrorResponse).error.code]).toEqual([409, "LOGIN_CONFLICT"]);
  });

  it("resynchronises a desktop that watches again: the acknowledgement carries the current state", async () => {
    await enrolPhone(phone, authenticator, { username: "again", displayName: "Again" });
    const login = await createLogin(desktop);
    const opened = await openFromQr(phone, login);
    expect((await approveOpened(phone, authenticator, opened)).status).toBe(200);
    const socket = new DesktopSocket(server.origin);
    sockets.push(socket);
    await socket.connected();
    const ack = await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret });
    expect(ack).toMatchObject({ ok: true, login: { status: "approved", version: 3 } });
  });
});

describe("every sign-in gets a new session", () => {
  it("ends the session a desktop already had when it redeems a new approval", async () => {
    await enrolPhone(phone, authenticator, { username: "twice", displayName: "Twice" });
    const signIn = async (): Promise<string> => {
      const login = await createLogin(desktop);
      const opened = await openFromQr(phone, login);
      expect((await approveOpened(phone, authenticator, opened)).status).toBe(200);
      const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), {
        desktopSecret: login.desktopSecret,
      });
      expect(redeemed.status).toBe(200);
      expect(redeemed.headers.get("cache-control")).toBe("no-store");
      return desktop.cookieHeader;
    };
    const first = await signIn();
    const second = await signIn();
    expect(second).not.toBe(first);
    const stale = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    stale.cookies.set(first.split("=")[0]!, first.slice(first.indexOf("=") + 1));
    expect((await stale.get(API_PATHS.session)).status).toBe(401);
    expect((await desktop.get(API_PATHS.session)).status).toBe(200);
  });
});
