import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type CreateLoginResponse,
  type ErrorResponse,
  type OpenApprovalResponse,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { markerAfter } from "../support/barrier.js";
import { approveOpened, createLogin, enrolPhone, openFromQr } from "../support/flows.js";
import { RELAXED_RATE_LIMITS, startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let desktop: HttpClient;
let phone: HttpClient;
let authenticator: SoftAuthenticator;

beforeEach(async () => {
  server = await startTestServer();
  desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "guard", displayName: "Guard" });
});

afterEach(async () => {
  await server.close();
});

const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

async function openedLogin(): Promise<{ login: CreateLoginResponse; opened: OpenApprovalResponse }> {
  const login = await createLogin(desktop);
  return { login, opened: await openFromQr(phone, login) };
}

/** A second, independent approval ceremony for the same request. */
async function secondCeremony(opened: OpenApprovalResponse): Promise<OpenApprovalResponse> {
  const response = await phone.post<OpenApprovalResponse["approval"]>(
    API_PATHS.loginApprovalOptions(opened.review.id),
    {
      qrToken: opened.qrToken,
    },
  );
  expect(response.status).toBe(200);
  return { ...opened, approval: response.body };
}

describe("races end in exactly one outcome", () => {
  it("two concurrent approvals: exactly one succeeds, the other gets 409", async () => {
    // Two passkeys of one account: with one, the assertion carrying the lower signature counter
    // could lose to the counter check (400) before reaching the race this test is about.
    const secondPasskey = new SoftAuthenticator({ origin: server.origin });
    await enrolPhone(phone, secondPasskey, { username: "guard", displayName: "Guard" });
    const { opened } = await openedLogin();
    const other = await secondCeremony(opened);
    const results = await Promise.all([
      approveOpened(phone, authenticator, opened),
      approveOpened(phone, secondPasskey, other),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 409]);
  });

  it("an approval racing a denial: one wins, and the stored status agrees with it", async () => {
    const { login, opened } = await openedLogin();
    const [approval, denial] = await Promise.all([
      approveOpened(phone, authenticator, opened),
      phone.post(API_PATHS.loginDeny(login.login.id), { qrToken: opened.qrToken, reason: "cancelled" }),
    ]);
    expect([approval.status, denial.status].sort()).toEqual([200, 409]);
    const stored = await server.store.getLoginRequest(login.login.id);
    expect(stored?.status).toBe(approval.status === 200 ? "approved" : "denied");
  });

  it("redeems once: the second redeem fails and sets no cookie", async () => {
    const { login, opened } = await openedLogin();
    expect((await approveOpened(phone, authenticator, opened)).status).toBe(200);
    const body = { desktopSecret: login.desktopSecret };
    const other = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const [first, second] = await Promise.all([
      desktop.post(API_PATHS.loginRedeem(login.login.id), body),
      other.post(API_PATHS.loginRedeem(login.login.id), body),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect(desktop.cookies.size + other.cookies.size).toBe(1);
  });
});

describe("secrets", () => {
  it("refuses redeem with a wrong desktop secret, without saying whether the id exists", async () => {
    const { login, opened } = await openedLogin();
    expect((await approveOpened(phone, authenticator, opened)).status).toBe(200);
    const wrong = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: "A".repeat(43) });
    const unknown = await desktop.post(API_PATHS.loginRedeem("B".repeat(22)), { desktopSecret: login.desktopSecret });
    expect([wrong.status, codeOf(wrong.body)]).toEqual([404, "LOGIN_NOT_FOUND"]);
    expect(wrong.body).toEqual(unknown.body);
    expect(desktop.cookies.size).toBe(0);
    // The guard, not a broken request, refused it: the right secret still redeems.
    const right = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(desktop.cookies.size).toBe(1);
  });

  it("refuses to let a socket watch with a wrong secret, and sends it no updates", async () => {
    const login = await createLogin(desktop);
    const intruder = new DesktopSocket(server.origin);
    const owner = new DesktopSocket(server.origin);
    try {
      await Promise.all([intruder.connected(), owner.connected()]);
      const refused = await intruder.watch({ id: login.login.id, desktopSecret: "A".repeat(43) });
      expect(refused).toMatchObject({ ok: false, error: { code: "LOGIN_NOT_FOUND" } });
      expect(await owner.watch({ id: login.login.id, desktopSecret: login.desktopSecret })).toMatchObject({ ok: true });

      await markerAfter({ origin: server.origin, sockets: [intruder] }, () => openFromQr(phone, login));
      // The scan was broadcast (its owner heard it); the refused socket heard nothing of it.
      await owner.waitForStatus("scanned");
      expect(intruder.updates.filter((update) => update.id === login.login.id)).toEqual([]);
    } finally {
      intruder.close();
      owner.close();
    }
  });

  it("refuses to open a request with a wrong QR token", async () => {
    const login = await createLogin(desktop);
    const opened = await phone.post(API_PATHS.approvalsOpen, { id: login.login.id, qrToken: "A".repeat(22) });
    expect(opened.status).toBe(404);
    expect((await server.store.getLoginRequest(login.login.id))?.status).toBe("pending");
  });

  it("refuses a socket handshake from another origin", async () => {
    const socket = new DesktopSocket(server.origin, { origin: "https://evil.example" });
    await expect(socket.connected()).rejects.toThrow();
    socket.close();
  });
});

describe("passkey assertions", () => {
  it("rejects an assertion made for another origin", async () => {
    const { login, opened } = await openedLogin();
    const result = await approveOpened(phone, authenticator, opened, { origin: "https://evil.example" });
    expect(result.status).toBe(400);
    expect(codeOf(result.body)).toBe("WEBAUTHN_VERIFICATION_FAILED");
    expect((await server.store.getLoginRequest(login.login.id))?.status).toBe("scanned");
  });

  it("rejects an assertion without user verification", async () => {
    const { opened } = await openedLogin();
    const result = await approveOpened(phone, authenticator, opened, { userVerified: false });
    expect(codeOf(result.body)).toBe("WEBAUTHN_VERIFICATION_FAILED");
  });

  it("rejects an assertion signed over another request's challenge", async () => {
    const first = await openedLogin();
    const second = await openedLogin();
    // Sign the first request's challenge, present it with the second request's ceremony.
    const credential = await authenticator.getAssertion(
      first.opened.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const result = await phone.post(API_PATHS.loginApprove(second.login.login.id), {
      qrToken: second.opened.qrToken,
      ceremonyId: second.opened.approval.ceremonyId,
      credential,
    });
    expect(codeOf(result.body)).toBe("WEBAUTHN_VERIFICATION_FAILED");
    // And the first request's ceremony cannot be pointed at the second request either.
    const crossed = await phone.post(API_PATHS.loginApprove(second.login.login.id), {
      qrToken: second.opened.qrToken,
      ceremonyId: first.opened.approval.ceremonyId,
      credential,
    });
    expect(codeOf(crossed.body)).toBe("CEREMONY_NOT_FOUND");
    expect((await server.store.getLoginRequest(second.login.login.id))?.status).toBe("scanned");
  });

  it("rejects a replayed assertion, and a failed attempt spends its challenge", async () => {
    const { opened } = await openedLogin();
    const failed = await approveOpened(phone, authenticator, opened, { userVerified: false });
    expect(codeOf(failed.body)).toBe("WEBAUTHN_VERIFICATION_FAILED");
    // Same ceremony again, now with a valid signature: the challenge is already gone.
    const retry = await approveOpened(phone, authenticator, opened);
    expect(codeOf(retry.body)).toBe("CEREMONY_NOT_FOUND");

    const fresh = await secondCeremony(opened);
    const credential = await authenticator.getAssertion(
      fresh.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const body = { qrToken: fresh.qrToken, ceremonyId: fresh.approval.ceremonyId, credential };
    expect((await phone.post(API_PATHS.loginApprove(fresh.review.id), body)).status).toBe(200);
    const replay = await phone.post(API_PATHS.loginApprove(fresh.review.id), body);
    expect(replay.status).toBe(400);
    expect(codeOf(replay.body)).toBe("CEREMONY_NOT_FOUND");
  });

  it("rejects a counter that goes backwards (a cloned authenticator)", async () => {
    const first = await openedLogin();
    expect((await approveOpened(phone, authenticator, first.opened)).status).toBe(200);
    const second = await openedLogin();
    const result = await approveOpened(phone, authenticator, second.opened, { signCount: 1 });
    expect(codeOf(result.body)).toBe("WEBAUTHN_VERIFICATION_FAILED");
  });

  it("rejects a passkey this server never enrolled", async () => {
    const { opened } = await openedLogin();
    const stranger = new SoftAuthenticator({ origin: server.origin });
    await stranger.createCredential({
      rp: { id: "localhost", name: "x" },
      user: { id: "AAAA", name: "x", displayName: "x" },
      challenge: "AAAA",
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    });
    const result = await approveOpened(phone, stranger, opened);
    expect(codeOf(result.body)).toBe("UNKNOWN_CREDENTIAL");
  });
});

describe("enrolment guard", () => {
  it("never lets anyone add a passkey to someone else's username", async () => {
    const intruder = new HttpClient(server.origin, { userAgent: PHONE_UA });
    for (const username of ["guard", "GUARD", " Guard "]) {
      const response = await intruder.post(API_PATHS.enrolmentOptions, { username, displayName: "Mallory" });
      expect(response.status).toBe(409);
      expect(codeOf(response.body)).toBe("USERNAME_TAKEN");
    }
    const user = await server.store.findUserByUsername("guard");
    expect(await server.store.listCredentials(user!.id)).toHaveLength(1);
  });

  it("lets the signed-in owner add a second passkey to their own account", async () => {
    const second = new SoftAuthenticator({ origin: server.origin });
    await enrolPhone(phone, second, { username: "guard", displayName: "ignored" });
    const user = await server.store.findUserByUsername("guard");
    expect(await server.store.listCredentials(user!.id)).toHaveLength(2);
    expect(user?.displayName).toBe("Guard");
  });

  it("gives two phones racing for one new username exactly one account", async () => {
    const phones = [0, 1].map(() => new HttpClient(server.origin, { userAgent: PHONE_UA }));
    const authenticators = phones.map(() => new SoftAuthenticator({ origin: server.origin }));
    const starts = await Promise.all(
      phones.map((client) =>
        client.post<{ ceremonyId: string; options: never }>(API_PATHS.enrolmentOptions, {
          username: "race",
          displayName: "Race",
        }),
      ),
    );
    expect(starts.map((start) => start.status)).toEqual([200, 200]);
    const results = await Promise.all(
      starts.map(async (start, index) =>
        phones[index]!.post(API_PATHS.enrolmentVerify, {
          ceremonyId: start.body.ceremonyId,
          credential: await authenticators[index]!.createCredential(start.body.options),
        }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual([201, 409]);
  });
});

describe("bad input gets a 4xx JSON error and leaves no state behind", () => {
  it("refuses state-changing requests without our Origin", async () => {
    for (const origin of [null, "https://evil.example"]) {
      const client = new HttpClient(server.origin, { userAgent: DESKTOP_UA, origin });
      const response = await client.post(API_PATHS.logins, {});
      expect(response.status).toBe(403);
      expect(codeOf(response.body)).toBe("ORIGIN_MISMATCH");
    }
  });

  it.each([
    ["missing fields", API_PATHS.enrolmentOptions, {}, 400, "VALIDATION_FAILED"],
    ["wrong types", API_PATHS.enrolmentOptions, { username: 5, displayName: true }, 400, "VALIDATION_FAILED"],
    [
      "junk base64url",
      API_PATHS.loginRedeem("AAAAAAAAAAAAAAAAAAAAAA"),
      { desktopSecret: "not base64url!" },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "unknown login id",
      API_PATHS.loginRedeem("AAAAAAAAAAAAAAAAAAAAAA"),
      { desktopSecret: "A".repeat(43) },
      404,
      "LOGIN_NOT_FOUND",
    ],
    ["unknown user code", API_PATHS.approvalsOpen, { userCode: "2222-2222" }, 404, "LOGIN_NOT_FOUND"],
    [
      "both kinds of open",
      API_PATHS.approvalsOpen,
      { userCode: "2222-2222", id: "AAAA", qrToken: "AAAA" },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "unknown ceremony",
      API_PATHS.enrolmentVerify,
      {
        ceremonyId: "AAAA",
        credential: {
          id: "AA",
          rawId: "AA",
          type: "public-key",
          response: { clientDataJSON: "AA", attestationObject: "AA" },
        },
      },
      400,
      "CEREMONY_NOT_FOUND",
    ],
    ["a JSON array", API_PATHS.logins + "/AAAA/deny", [], 400, "VALIDATION_FAILED"],
    ["an unknown route", "/api/nothing-here", {}, 404, "NOT_FOUND"],
  ] as const)("%s", async (_name, path, body, status, code) => {
    const response = await phone.post(path, body);
    expect(response.status).toBe(status);
    expect(codeOf(response.body)).toBe(code);
    expect(typeof (response.body as ErrorResponse).error.message).toBe("string");
  });

  it("refuses malformed JSON, non-JSON and oversize bodies", async () => {
    const malformed = await phone.request("POST", API_PATHS.logins, {
      rawBody: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect([malformed.status, codeOf(malformed.body)]).toEqual([400, "INVALID_JSON"]);
    const form = await phone.request("POST", API_PATHS.logins, {
      rawBody: "a=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect([form.status, codeOf(form.body)]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const huge = await phone.post(API_PATHS.enrolmentOptions, {
      username: "x",
      displayName: "y",
      pad: "z".repeat(100_000),
    });
    expect([huge.status, codeOf(huge.body)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  });

  it("creates no user and no session when enrolment verification fails", async () => {
    const client = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const start = await client.post<{ ceremonyId: string; options: never }>(API_PATHS.enrolmentOptions, {
      username: "half",
      displayName: "Half",
    });
    expect(start.status).toBe(200);
    const credential = await new SoftAuthenticator({ origin: server.origin }).createCredential(start.body.options, {
      userVerified: false,
    });
    const result = await client.post(API_PATHS.enrolmentVerify, { ceremonyId: start.body.ceremonyId, credential });
    expect(codeOf(result.body)).toBe("WEBAUTHN_VERIFICATION_FAILED");
    expect(await server.store.findUserByUsername("half")).toBeNull();
    expect(client.cookies.size).toBe(0);
  });

  it("answers an unacknowledged or malformed socket event without crashing", async () => {
    const socket = new DesktopSocket(server.origin);
    await socket.connected();
    // What a buggy or hostile client can send: no acknowledgement callback at all.
    (socket.socket as unknown as { emit(event: string, payload: unknown): void }).emit("login:watch", { id: 5 });
    const ack = await socket.watch({ id: "" } as never);
    expect(ack).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    expect(socket.socket.connected).toBe(true);
    socket.close();
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once an IP guesses too many user codes", async () => {
    const limited = await startTestServer({
      rateLimits: { ...RELAXED_RATE_LIMITS, lookupUserCode: { points: 3, durationSeconds: 60 } },
    });
    try {
      const client = new HttpClient(limited.origin, { userAgent: PHONE_UA });
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 4; attempt += 1) {
        statuses.push((await client.post(API_PATHS.approvalsOpen, { userCode: "2222-2222" })).status);
      }
      expect(statuses).toEqual([404, 404, 404, 429]);
      const last = await client.post(API_PATHS.approvalsOpen, { userCode: "2222-2222" });
      expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(codeOf(last.body)).toBe("RATE_LIMITED");
    } finally {
      await limited.close();
    }
  });
});

describe("odd but harmless clients", () => {
  it("serves a client that sends no User-Agent", async () => {
    const bare = new HttpClient(server.origin, { userAgent: "" });
    const response = await bare.request("POST", API_PATHS.logins, { json: {}, headers: { "user-agent": "" } });
    expect(response.status).toBe(201);
  });
});
