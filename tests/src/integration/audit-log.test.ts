import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type EnrolmentOptionsResponse,
  type EnrolmentVerifyResponse,
  type PasskeySignInOptionsResponse,
} from "@countersign/shared";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { approveOpened, createLogin, openFromQr, qrLinkOf } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA, type ApiResponse } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { RELAXED_RATE_LIMITS, startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
const lines: string[] = [];

beforeAll(async () => {
  server = await startTestServer({
    logSink: { write: (line: string) => void lines.push(line) },
    // Four sign-ins may start from this address; the fifth is refused, for its audit line.
    rateLimits: { ...RELAXED_RATE_LIMITS, createLogin: { points: 4, durationSeconds: 600 } },
  });
});

afterAll(async () => {
  await server.close();
});

type LogLine = Record<string, unknown> & { level: number; msg: string };
const parsed = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);
const auditLines = (): LogLine[] => parsed().filter((line) => line.audit === true);

/** The id the server gave the request, as its answer carried it. */
function idOf(response: ApiResponse): string {
  const id = response.headers.get("x-request-id");
  expect(id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  return id!;
}

async function enrol(
  client: HttpClient,
  authenticator: SoftAuthenticator,
  account: { username: string; displayName: string },
): Promise<ApiResponse<EnrolmentVerifyResponse>> {
  const options = await client.post<EnrolmentOptionsResponse>(API_PATHS.enrolmentOptions, account);
  expect(options.status).toBe(200);
  const credential = await authenticator.createCredential(
    options.body.options as unknown as PublicKeyCredentialCreationOptionsJSON,
  );
  const verified = await client.post<EnrolmentVerifyResponse>(API_PATHS.enrolmentVerify, {
    ceremonyId: options.body.ceremonyId,
    credential,
  });
  expect(verified.status, JSON.stringify(verified.body)).toBe(201);
  return verified;
}

describe("request ids", () => {
  it("keeps a sane incoming X-Request-Id, replaces any other, and always answers with one", async () => {
    const client = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const kept = await client.request("GET", API_PATHS.session, { headers: { "x-request-id": "lb-7f3a.9_Z-1" } });
    expect(kept.headers.get("x-request-id")).toBe("lb-7f3a.9_Z-1");
    for (const insane of ["has space", "a".repeat(65), "semi;colon", "ünïcode"]) {
      const replaced = await client.request("GET", API_PATHS.session, { headers: { "x-request-id": insane } });
      expect(replaced.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9_-]{16}$/);
    }
    const fresh = [await client.get(API_PATHS.session), await client.get(API_PATHS.session)].map(idOf);
    expect(fresh[0]).not.toBe(fresh[1]);
    const requestLine = parsed().find((line) => line.msg === "request" && line.requestId === "lb-7f3a.9_Z-1");
    expect(requestLine).toMatchObject({ level: 30, route: "/api/session", status: 401 });
  });

  it("logs health probes at debug only, so they stay out of an info log", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`${server.origin}${path}`);
      expect(response.status).toBe(200);
      const id = response.headers.get("x-request-id");
      const line = parsed().find((entry) => entry.msg === "request" && entry.requestId === id);
      expect(line).toMatchObject({ level: 20, path });
    }
  });
});

describe("the audit log", () => {
  it("writes one line per security event of a full flow, in order, with the answers' request ids and no secret", async () => {
    const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const authenticator = new SoftAuthenticator({ origin: server.origin });
    const before = auditLines().length;
    const expected: Record<string, unknown>[] = [];
    const phoneClient = { ip: "127.0.0.1", client: "Pixel 8 · Chrome" };
    const desktopClient = { ip: "127.0.0.1", client: "macOS · Chrome" };

    const enrolled = await enrol(phone, authenticator, { username: "audited", displayName: "Audited Person" });
    const userId = enrolled.body.user.id;
    const firstPasskey = enrolled.body.passkey.id;
    expected.push({
      event: "account.enrolled",
      userId,
      passkeyId: firstPasskey,
      requestId: idOf(enrolled),
      ...phoneClient,
    });

    /** A complete QR sign-in of the desktop: approve, then redeem. */
    const signInDesktop = async (): Promise<{ login: Awaited<ReturnType<typeof createLogin>>; qrToken: string }> => {
      const login = await createLogin(desktop);
      const opened = await openFromQr(phone, login);
      const approved = await approveOpened(phone, authenticator, opened);
      expect(approved.status).toBe(200);
      const common = { userId, loginRequestId: login.login.id, method: "qr" };
      expected.push({ event: "login.approved", ...common, requestId: idOf(approved), ...phoneClient });
      const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), {
        desktopSecret: login.desktopSecret,
      });
      expect(redeemed.status).toBe(200);
      expected.push({ event: "login.redeemed", ...common, requestId: idOf(redeemed), ...desktopClient });
      return { login, qrToken: opened.qrToken };
    };
    const first = await signInDesktop();

    const secrets: string[] = [first.login.desktopSecret, first.qrToken, qrLinkOf(first.login).qrToken];
    for (const reason of ["cancelled", "not_me"] as const) {
      const login = await createLogin(desktop);
      const opened = await openFromQr(phone, login);
      const denied = await phone.post(API_PATHS.loginDeny(login.login.id), { qrToken: opened.qrToken, reason });
      expect(denied.status).toBe(200);
      expected.push({
        event: reason === "not_me" ? "login.fraud_reported" : "login.denied",
        userId,
        loginRequestId: login.login.id,
        method: "qr",
        reason,
        requestId: idOf(denied),
        ...phoneClient,
      });
      secrets.push(login.desktopSecret, opened.qrToken, login.userCode, login.userCode.replace("-", ""));
    }

    const desktopCookies = [...desktop.cookies.values()];
    const signedOut = await desktop.delete(API_PATHS.session);
    expect(signedOut.status).toBe(204);
    expected.push({
      event: "session.signed_out",
      userId,
      kind: "desktop",
      requestId: idOf(signedOut),
      ...desktopClient,
    });

    const second = await signInDesktop();
    secrets.push(second.login.desktopSecret, second.qrToken, ...desktopCookies, ...desktop.cookies.values());
    const computersOut = await phone.post(API_PATHS.approverSignOutComputers, {});
    expect(computersOut.status).toBe(200);
    const computersId = idOf(computersOut);
    expected.push({ event: "session.revoked", userId, kind: "desktop", requestId: computersId, ...phoneClient });
    expected.push({ event: "account.computers_signed_out", userId, count: 1, requestId: computersId, ...phoneClient });

    const added = await enrol(phone, new SoftAuthenticator({ origin: server.origin }), {
      username: "audited",
      displayName: "ignored",
    });
    const secondPasskey = added.body.passkey.id;
    expected.push({
      event: "passkey.added",
      userId,
      passkeyId: secondPasskey,
      viaLink: false,
      requestId: idOf(added),
      ...phoneClient,
    });
    const removed = await phone.delete(API_PATHS.approverPasskey(secondPasskey));
    expect(removed.status).toBe(204);
    expected.push({
      event: "passkey.removed",
      userId,
      passkeyId: secondPasskey,
      requestId: idOf(removed),
      ...phoneClient,
    });

    // The phone, its session lost, signs in again with the passkey it holds.
    const again = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const start = await again.post<PasskeySignInOptionsResponse>(API_PATHS.approverSignInOptions);
    const assertion = await authenticator.getAssertion(
      start.body.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const signedIn = await again.post(API_PATHS.approverSignInVerify, {
      ceremonyId: start.body.ceremonyId,
      credential: assertion,
    });
    expect(signedIn.status).toBe(200);
    expected.push({ event: "sign_in.passkey", userId, kind: "approver", requestId: idOf(signedIn), ...phoneClient });

    const foreign = new HttpClient(server.origin, { userAgent: DESKTOP_UA, origin: "https://evil.example" });
    const refusedOrigin = await foreign.post(API_PATHS.logins, {});
    expect(refusedOrigin.status).toBe(403);
    expected.push({ event: "origin.refused", transport: "http", requestId: idOf(refusedOrigin), ...desktopClient });

    const limited = await desktop.post(API_PATHS.logins, {});
    expect(limited.status).toBe(429);
    expected.push({ event: "rate_limited", action: "createLogin", requestId: idOf(limited), ...desktopClient });

    // A socket's handshake from another origin never reaches Express; it is on the trail all the same.
    const foreignSocket = new DesktopSocket(server.origin, { origin: "https://evil.example" });
    await expect(foreignSocket.connected()).rejects.toThrow();
    foreignSocket.close();
    expected.push({ event: "origin.refused", transport: "socket", requestId: expect.any(String), ip: "127.0.0.1" });

    const audit = auditLines().slice(before);
    expect(audit.map((line) => line.event)).toEqual(expected.map((line) => line.event));
    audit.forEach((line, index) => {
      expect(line, String(line.event)).toMatchObject({ level: 30, msg: "audit", ...expected[index] });
    });
    // Session ids are public names, each line its own session's.
    const sessionLines = audit.filter((line) => String(line.event).startsWith("session."));
    for (const line of sessionLines) expect(line.sessionId).toMatch(/^[\w-]{22}$/);

    secrets.push(...phone.cookies.values(), ...again.cookies.values(), "audited", "Audited Person");
    const everything = lines.join("");
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
