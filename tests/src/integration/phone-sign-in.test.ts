import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  DEFAULT_APPROVER_SESSION_TTL_SECONDS,
  DEFAULT_SESSION_TTL_SECONDS,
  type CreatePushLoginResponse,
  type ErrorResponse,
  type InboxResponse,
  type PasskeySignInOptionsResponse,
  type SessionResponse,
  type SessionsResponse,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { markerAfter } from "../support/barrier.js";
import { approveOpened, createLogin, enrolPhone, joinSecondPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA, type ApiResponse } from "../support/http-client.js";
import { sessionIdOf } from "../support/revoked-phone.js";
import { ApproverSocket } from "../support/socket-client.js";
import type { CeremonyOverrides } from "../support/soft-authenticator.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SESSION_TTL_MS = DEFAULT_SESSION_TTL_SECONDS * 1000;
const APPROVER_TTL_MS = DEFAULT_APPROVER_SESSION_TTL_SECONDS * 1000;
const DAY_MS = 24 * 3600 * 1000;
const APPROVER_COOKIE = "cs-approver";

let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
const sockets: { close(): void }[] = [];
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

beforeEach(async () => {
  server = await startTestServer();
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "ines", displayName: "Inês" });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await server.close();
});

/** The phone's answer to a sign-in with the passkey it holds, as the approver app asks for it. */
async function signInAgain(
  client: HttpClient,
  held: SoftAuthenticator,
  options: { optionsPath?: string; overrides?: CeremonyOverrides } = {},
): Promise<ApiResponse<SessionResponse>> {
  const start = await client.post<PasskeySignInOptionsResponse>(options.optionsPath ?? API_PATHS.approverSignInOptions);
  expect(start.status, JSON.stringify(start.body)).toBe(200);
  const requestOptions = start.body.options as unknown as PublicKeyCredentialRequestOptionsJSON;
  // A phone's passkey is discoverable: the server names none, the authenticator offers its own.
  expect(requestOptions.allowCredentials ?? []).toEqual([]);
  expect(requestOptions.userVerification).toBe("required");
  const credential = await held.getAssertion(requestOptions, options.overrides);
  return client.post<SessionResponse>(API_PATHS.approverSignInVerify, {
    ceremonyId: start.body.ceremonyId,
    credential,
  });
}

async function pushTo(username: string): Promise<CreatePushLoginResponse> {
  const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  const response = await desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

/** The push reaches this phone again: in its inbox, and on a socket opened with its cookie. */
async function expectPushesReach(client: HttpClient): Promise<void> {
  const socket = new ApproverSocket(server.origin, { cookie: client.cookieHeader });
  sockets.push(socket);
  await socket.connected();
  const pushed = await pushTo("ines");
  await socket.waitUntil(() => socket.requests.some((review) => review.id === pushed.login.id), "the push");
  const inbox = await client.get<InboxResponse>(API_PATHS.approverInbox);
  expect(inbox.status).toBe(200);
  expect(inbox.body.requests.map((review) => review.id)).toEqual([pushed.login.id]);
}

/** Max-Age (seconds) of the approver cookie this answer sets, or null if it sets none. */
function approverCookieMaxAge(response: ApiResponse<unknown>): number | null {
  const cookie = response.headers.getSetCookie().find((value) => value.startsWith(`${APPROVER_COOKIE}=`));
  if (cookie === undefined) return null;
  const match = /;\s*Max-Age=(\d+)/i.exec(cookie);
  expect(match, cookie).not.toBeNull();
  return Number(match![1]);
}

describe("a phone signs in again with the passkey it holds", () => {
  it("after another phone revoked it: a new phone session, and pushes reach it again", async () => {
    const second = new HttpClient(server.origin, { userAgent: PHONE_UA });
    await joinSecondPhone(phone, second, new SoftAuthenticator({ origin: server.origin }));
    const revoked = await second.delete(API_PATHS.approverSessionById(await sessionIdOf(phone, second)));
    expect(revoked.status).toBe(204);
    const inbox = await phone.get(API_PATHS.approverInbox);
    expect([inbox.status, codeOf(inbox.body)]).toEqual([401, "UNAUTHENTICATED"]);

    const signedIn = await signInAgain(phone, authenticator);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.body.session).toMatchObject({
      kind: "approver",
      method: "passkey",
      user: { username: "ines" },
      passkeyLabel: "Pixel 8 · Chrome",
      expiresAt: server.clock.now() + APPROVER_TTL_MS,
    });
    expect(approverCookieMaxAge(signedIn)).toBe(APPROVER_TTL_MS / 1000);
    expect((await phone.get(API_PATHS.approverSession)).status).toBe(200);
    await expectPushesReach(phone);
  });

  it("after its session expired", async () => {
    server.clock.advance(APPROVER_TTL_MS);
    const expired = await phone.get(API_PATHS.approverSession);
    expect([expired.status, codeOf(expired.body)]).toEqual([401, "UNAUTHENTICATED"]);

    const signedIn = await signInAgain(phone, authenticator);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.body.session.expiresAt).toBe(server.clock.now() + APPROVER_TTL_MS);
    await expectPushesReach(phone);
  });

  it("replaces a session the phone still had, so the old cookie stops working", async () => {
    const oldCookie = phone.cookieHeader;
    const signedIn = await signInAgain(phone, authenticator);
    expect(signedIn.status).toBe(200);
    const stale = new HttpClient(server.origin, { userAgent: PHONE_UA });
    expect((await stale.request("GET", API_PATHS.approverSession, { headers: { cookie: oldCookie } })).status).toBe(
      401,
    );
    const listed = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
    expect(listed.body.sessions.map((session) => [session.kind, session.method, session.current])).toEqual([
      ["approver", "passkey", true],
    ]);
  });

  it("the username-taken answer to enrolling again points to signing in with the passkey", async () => {
    const fresh = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const taken = await fresh.post(API_PATHS.enrolmentOptions, { username: "ines", displayName: "Inês" });
    expect([taken.status, codeOf(taken.body)]).toEqual([409, "USERNAME_TAKEN"]);
    expect((taken.body as ErrorResponse).error.message).toContain("I already use Countersign on this phone");
  });
});

describe("a phone's sign-in refuses what is not its own ceremony or an enrolled passkey", () => {
  it("a computer's passkey challenge cannot finish a phone's sign-in", async () => {
    const fresh = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const refused = await signInAgain(fresh, authenticator, { optionsPath: API_PATHS.passkeySignInOptions });
    expect([refused.status, codeOf(refused.body)]).toEqual([400, "CEREMONY_NOT_FOUND"]);
    expect(fresh.cookies.size).toBe(0);
  });

  it("a phone's challenge cannot finish a computer's sign-in", async () => {
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const start = await desktop.post<PasskeySignInOptionsResponse>(API_PATHS.approverSignInOptions);
    expect(start.status).toBe(200);
    const credential = await authenticator.getAssertion(
      start.body.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const refused = await desktop.post(API_PATHS.passkeySignInVerify, {
      ceremonyId: start.body.ceremonyId,
      credential,
    });
    expect([refused.status, codeOf(refused.body)]).toEqual([400, "CEREMONY_NOT_FOUND"]);
    expect(desktop.cookies.size).toBe(0);
  });

  it("refuses a passkey it never enrolled, one without user verification, and a replay", async () => {
    const stranger = new SoftAuthenticator({ origin: server.origin });
    await stranger.createCredential({
      rp: { id: "localhost", name: "x" },
      user: { id: "AAAA", name: "x", displayName: "x" },
      challenge: "AAAA",
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    });
    const fresh = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const unknown = await signInAgain(fresh, stranger);
    expect([unknown.status, codeOf(unknown.body)]).toEqual([400, "UNKNOWN_CREDENTIAL"]);
    const unverified = await signInAgain(fresh, authenticator, { overrides: { userVerified: false } });
    expect([unverified.status, codeOf(unverified.body)]).toEqual([400, "WEBAUTHN_VERIFICATION_FAILED"]);
    expect(fresh.cookies.size).toBe(0);

    const start = await fresh.post<PasskeySignInOptionsResponse>(API_PATHS.approverSignInOptions);
    const body = {
      ceremonyId: start.body.ceremonyId,
      credential: await authenticator.getAssertion(
        start.body.options as unknown as PublicKeyCredentialRequestOptionsJSON,
      ),
    };
    expect((await fresh.post(API_PATHS.approverSignInVerify, body)).status).toBe(200);
    const replay = await new HttpClient(server.origin, { userAgent: PHONE_UA }).post(
      API_PATHS.approverSignInVerify,
      body,
    );
    expect([replay.status, codeOf(replay.body)]).toEqual([400, "CEREMONY_NOT_FOUND"]);
  });
});

describe("a phone's session has its own lifetime, sliding on use", () => {
  it("outlives a computer's session while used, and ends once unused for its whole lifetime", async () => {
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const login = await createLogin(desktop);
    expect((await approveOpened(phone, authenticator, await openFromQr(phone, login))).status).toBe(200);
    const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
    expect(redeemed.status).toBe(200);

    // The computer's session is fixed from sign-in.
    server.clock.advance(SESSION_TTL_MS - 1);
    expect((await desktop.get(API_PATHS.session)).status).toBe(200);
    server.clock.advance(1);
    expect((await desktop.get(API_PATHS.session)).status).toBe(401);

    // The phone, opened every 60 days, goes on well past both its own and the computer's lifetime.
    for (let use = 1; use <= 3; use += 1) {
      server.clock.advance(60 * DAY_MS);
      const opened = await phone.get<SessionResponse>(API_PATHS.approverSession);
      expect(opened.status, `use ${use}`).toBe(200);
      expect(opened.body.session.expiresAt).toBe(server.clock.now() + APPROVER_TTL_MS);
      // Its browser keeps the cookie as long as the session lives.
      expect(approverCookieMaxAge(opened)).toBe(APPROVER_TTL_MS / 1000);
    }
    // Used again a minute later: nothing to renew, nothing written.
    server.clock.advance(60_000);
    const soon = await phone.get(API_PATHS.approverSession);
    expect(soon.status).toBe(200);
    expect(approverCookieMaxAge(soon)).toBeNull();

    // Every authenticated phone route counts as use, not only opening the app: the last slide
    // was a minute ago, so this is its final millisecond.
    server.clock.advance(APPROVER_TTL_MS - 60_000 - 1);
    const inbox = await phone.get(API_PATHS.approverInbox);
    expect(inbox.status).toBe(200);
    expect(approverCookieMaxAge(inbox)).toBe(APPROVER_TTL_MS / 1000);

    server.clock.advance(APPROVER_TTL_MS);
    const unused = await phone.get(API_PATHS.approverSession);
    expect([unused.status, codeOf(unused.body)]).toEqual([401, "UNAUTHENTICATED"]);
  });

  it("keeps a phone's open socket while its session slides, and ends it once the session runs out", async () => {
    const socket = new ApproverSocket(server.origin, { cookie: phone.cookieHeader });
    sockets.push(socket);
    await socket.connected();
    server.clock.advance(60 * DAY_MS);
    expect((await phone.get(API_PATHS.approverSession)).status).toBe(200);
    // Past the expiry the socket was opened with: its timer finds the session slid and waits on.
    server.clock.advance(APPROVER_TTL_MS - 30 * DAY_MS);
    const pushed = await markerAfter({ origin: server.origin, sockets: [socket] }, () => pushTo("ines"));
    expect(socket.requests.map((review) => review.id)).toEqual([pushed.login.id]);
    expect(socket.sessionEnded).toEqual([]);

    server.clock.advance(30 * DAY_MS);
    await socket.waitUntil(() => socket.sessionEnded.length > 0, "session:ended");
    expect(socket.sessionEnded).toEqual([{ reason: "expired" }]);
  });
});
