import { createPublicKey, verify } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  approverPushUrl,
  DEFAULT_LOGIN_TTL_SECONDS,
  PUSH_PAUSE_MS,
  type CreatePushLoginResponse,
  type ErrorResponse,
  type PasskeysResponse,
  type PushKeyResponse,
  type PushMatchResponse,
  type PushSubscriptionStatus,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { enrolPhone, joinSecondPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA, type ApiResponse } from "../support/http-client.js";
import { pushTagOf } from "@countersign/server";
import {
  startPushEndpoint,
  type PushEndpoint,
  type ReceivedPush,
  type TestSubscription,
} from "../support/push-endpoint.js";
import { sessionIdOf } from "../support/revoked-phone.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** What the server logs (at debug, without endpoints) once a batch of pushes has gone out. */
interface Batch {
  kind: "request" | "resolved";
  tag: string;
  phones: number;
  delivered: number;
  gone: number;
  failed: number;
}

let server: TestServer;
let endpoint: PushEndpoint;
let desktop: HttpClient;
let first: HttpClient;
let second: HttpClient;
let firstAuthenticator: SoftAuthenticator;
let firstSubscription: TestSubscription;
let secondSubscription: TestSubscription;
const logLines: string[] = [];
const logWaiters = new Set<() => void>();
const codeOf = (response: ApiResponse): string => (response.body as ErrorResponse).error.code;

function putSubscription(client: HttpClient, json: unknown): Promise<ApiResponse> {
  return client.request("PUT", API_PATHS.approverPushSubscription, { json });
}

async function subscribe(client: HttpClient, subscription: TestSubscription): Promise<void> {
  const response = await putSubscription(client, subscription.json);
  expect(response.status, JSON.stringify(response.body)).toBe(204);
}

async function notificationsEnabled(client: HttpClient): Promise<boolean> {
  const response = await client.get<PushSubscriptionStatus>(API_PATHS.approverPushSubscription);
  expect(response.status).toBe(200);
  return response.body.enabled;
}

async function push(username = "pia"): Promise<CreatePushLoginResponse> {
  const response = await desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

/**
 * Resolves with the server's account of one batch (a request's or a resolution's) once it is
 * done: every push in it has been answered, and a gone subscription has been removed.
 */
function batch(kind: Batch["kind"], tag: string): Promise<Batch> {
  // No timer of its own: the test's timeout bounds the wait.
  return new Promise((resolve) => {
    function check(): void {
      for (const raw of logLines) {
        const line = JSON.parse(raw) as Partial<Batch> & { msg: string };
        if (line.msg !== "web push notifications sent" || line.kind !== kind || line.tag !== tag) continue;
        logWaiters.delete(check);
        resolve(line as Batch);
        return;
      }
    }
    logWaiters.add(check);
    check();
  });
}

/** The request notification each phone got for this push sign-in, once both have it. */
async function requestsFor(created: CreatePushLoginResponse, phones: TestSubscription[]): Promise<ReceivedPush[]> {
  return Promise.all(
    phones.map((phone) =>
      endpoint.waitFor(
        `${phone.phone}'s request`,
        (got) => got.phone === phone.phone && got.message.id === created.login.id,
      ),
    ),
  );
}

function receivedBy(phone: TestSubscription, id: string): ReceivedPush[] {
  return endpoint.received.filter((got) => got.phone === phone.phone && got.message.id === id);
}

/** The tag both phones' notifications carry for this request. */
function tagOf(received: ReceivedPush): string {
  return received.message.tag;
}

/** Checks the VAPID JWT (RFC 8292): signed with the key `k` names, for this push service, not expired. */
function expectVapid(authorization: string | undefined, publicKey: string): void {
  const match = /^vapid t=([\w-]+)\.([\w-]+)\.([\w-]+), k=([\w-]+)$/.exec(authorization ?? "");
  expect(match, authorization).not.toBeNull();
  const [, header, payload, signature, key] = match!;
  expect(key).toBe(publicKey);
  const point = Buffer.from(key!, "base64url");
  const jwk = {
    kty: "EC",
    crv: "P-256",
    x: point.subarray(1, 33).toString("base64url"),
    y: point.subarray(33, 65).toString("base64url"),
  };
  const valid = verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    { key: createPublicKey({ key: jwk, format: "jwk" }), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature!, "base64url"),
  );
  expect(valid).toBe(true);
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as {
    aud: string;
    exp: number;
    sub: string;
  };
  expect(claims.aud).toBe(endpoint.origin);
  expect(claims.sub).toMatch(/^mailto:/);
  expect(claims.exp * 1000).toBeGreaterThan(Date.now());
}

async function start(env: Record<string, string> = { WEB_PUSH_DEV_LOOPBACK: "true" }): Promise<void> {
  endpoint = await startPushEndpoint();
  server = await startTestServer({
    env,
    logSink: {
      write(raw: string) {
        logLines.push(raw);
        for (const waiter of [...logWaiters]) waiter();
      },
    },
  });
  desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  first = new HttpClient(server.origin, { userAgent: PHONE_UA });
  second = new HttpClient(server.origin, { userAgent: PHONE_UA });
  firstAuthenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(first, firstAuthenticator, { username: "pia", displayName: "Pia" });
  await joinSecondPhone(first, second, new SoftAuthenticator({ origin: server.origin }));
  firstSubscription = endpoint.subscribe("first");
  secondSubscription = endpoint.subscribe("second");
}

afterEach(async () => {
  await server?.close();
  await endpoint?.close();
  logLines.length = 0;
  logWaiters.clear();
});

describe("web push to the person's phones", () => {
  beforeEach(() => start());

  it("sends each phone one RFC 8291-encrypted request: TTL, high urgency, topic, VAPID, and nothing secret", async () => {
    await subscribe(first, firstSubscription);
    await subscribe(second, secondSubscription);
    expect([await notificationsEnabled(first), await notificationsEnabled(second)]).toEqual([true, true]);
    const key = await first.get<PushKeyResponse>(API_PATHS.approverPushKey);
    expect(key.status).toBe(200);

    const created = await push();
    const [toFirst, toSecond] = await requestsFor(created, [firstSubscription, secondSubscription]);
    const done = await batch("request", tagOf(toFirst!));
    expect(done).toMatchObject({ phones: 2, delivered: 2, gone: 0, failed: 0 });

    for (const received of [toFirst!, toSecond!]) {
      expect(received.headers).toMatchObject({
        ttl: String(DEFAULT_LOGIN_TTL_SECONDS),
        urgency: "high",
        topic: received.message.tag,
        contentEncoding: "aes128gcm",
      });
      expect(received.headers.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
      expectVapid(received.headers.authorization, key.body.publicKey);
      expect(received.message).toEqual({
        v: 1,
        kind: "request",
        id: created.login.id,
        tag: received.message.tag,
        title: "Sign-in request",
        body: expect.stringMatching(/^Chrome on macOS/) as unknown as string,
        url: approverPushUrl({ origin: server.origin, id: created.login.id }),
        expiresAt: created.login.expiresAt,
      });
      // Encrypted on the wire; and decrypted, no number to pick, no secret, no code, no address.
      expect(received.raw.toString("latin1")).not.toContain(created.login.id);
      const text = JSON.stringify(received.message);
      const record = await server.store.getLoginRequest(created.login.id);
      for (const secret of [created.desktopSecret, record!.userCode, "127.0.0.1"]) {
        expect(text).not.toContain(secret);
      }
      expect(Object.values(received.message)).not.toContain(created.matchNumber);
      expect(text).not.toMatch(new RegExp(`\\b${created.matchNumber}\\b`));
    }
    expect(receivedBy(firstSubscription, created.login.id)).toHaveLength(1);
    expect(receivedBy(secondSubscription, created.login.id)).toHaveLength(1);
  });

  it("gives the same VAPID key every time, and answers its key without a session", async () => {
    const anonymous = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const [one, two] = await Promise.all([
      anonymous.get<PushKeyResponse>(API_PATHS.approverPushKey),
      first.get<PushKeyResponse>(API_PATHS.approverPushKey),
    ]);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(one.body.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(two.body.publicKey).toBe(one.body.publicKey);
  });

  describe("closes the notification on every phone when the request ends", () => {
    beforeEach(async () => {
      await subscribe(first, firstSubscription);
      await subscribe(second, secondSubscription);
    });

    const ends: Record<string, (created: CreatePushLoginResponse) => Promise<void>> = {
      approved: async (created) => {
        const matched = await first.post<PushMatchResponse>(API_PATHS.pushMatch(created.login.id), {
          choice: created.matchNumber,
        });
        expect(matched.status, JSON.stringify(matched.body)).toBe(200);
        if (!matched.body.matched) throw new Error("the right number did not match");
        const credential = await firstAuthenticator.getAssertion(
          matched.body.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
        );
        const approved = await first.post(API_PATHS.pushApprove(created.login.id), {
          ceremonyId: matched.body.approval.ceremonyId,
          credential,
        });
        expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      },
      denied: async (created) => {
        expect((await second.post(API_PATHS.pushDeny(created.login.id), { reason: "cancelled" })).status).toBe(200);
      },
      superseded: async () => {
        await push();
      },
      cancelled: async (created) => {
        const cancelled = await desktop.post(API_PATHS.loginCancel(created.login.id), {
          desktopSecret: created.desktopSecret,
        });
        expect(cancelled.status).toBe(200);
      },
      expired: async () => {
        server.clock.advance(DEFAULT_LOGIN_TTL_SECONDS * 1000);
      },
    };

    it.each(Object.keys(ends))("%s: a 'resolved' with the request's tag to each phone", async (end) => {
      const created = await push();
      const [toFirst] = await requestsFor(created, [firstSubscription, secondSubscription]);
      const tag = tagOf(toFirst!);
      await ends[end]!(created);
      expect(await batch("resolved", tag)).toMatchObject({ phones: 2, delivered: 2 });
      expect((await server.store.getLoginRequest(created.login.id))?.status).toBe(end);
      for (const phone of [firstSubscription, secondSubscription]) {
        const messages = receivedBy(phone, created.login.id);
        expect(messages.map((got) => got.message)).toEqual([
          expect.objectContaining({ kind: "request", tag }),
          { v: 1, kind: "resolved", id: created.login.id, tag },
        ]);
        expect(messages[1]!.headers).toMatchObject({ topic: tag, urgency: "high" });
      }
    });

    it("a push held back (pushes paused) sends nothing, not even its end", async () => {
      const reported = await push();
      await requestsFor(reported, [firstSubscription, secondSubscription]);
      expect((await first.post(API_PATHS.pushDeny(reported.login.id), { reason: "not_me" })).status).toBe(200);
      await batch("resolved", pushTagOf(reported.login.id));
      // Paused now: this one reaches no phone, so its end must not wake any either.
      const heldBack = await push();
      const cancelled = await desktop.post(API_PATHS.loginCancel(heldBack.login.id), {
        desktopSecret: heldBack.desktopSecret,
      });
      expect(cancelled.status).toBe(200);
      // A marker after the pause: its request and end are sent, and were queued after anything
      // the held-back one could have caused.
      server.clock.advance(PUSH_PAUSE_MS);
      const next = await push();
      await requestsFor(next, [firstSubscription, secondSubscription]);
      await desktop.post(API_PATHS.loginCancel(next.login.id), { desktopSecret: next.desktopSecret });
      await batch("resolved", pushTagOf(next.login.id));
      expect(endpoint.received.filter((got) => got.message.id === heldBack.login.id)).toEqual([]);
      expect(logLines.filter((line) => line.includes(pushTagOf(heldBack.login.id)))).toEqual([]);
    });

    it("sends one 'resolved' only: redeeming an approved request sends nothing more", async () => {
      const created = await push();
      const [toFirst] = await requestsFor(created, [firstSubscription, secondSubscription]);
      await ends.approved!(created);
      await batch("resolved", tagOf(toFirst!));
      const redeemed = await desktop.post(API_PATHS.loginRedeem(created.login.id), {
        desktopSecret: created.desktopSecret,
      });
      expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
      // A marker: the next push's request batch is logged after anything the redeem caused.
      const next = await push();
      const [nextToFirst] = await requestsFor(next, [firstSubscription]);
      await batch("request", tagOf(nextToFirst!));
      const resolvedBatches = logLines
        .map((raw) => JSON.parse(raw) as { msg: string; kind?: string })
        .filter((line) => line.msg === "web push notifications sent" && line.kind === "resolved");
      expect(resolvedBatches).toHaveLength(1);
      expect(receivedBy(firstSubscription, created.login.id)).toHaveLength(2);
    });
  });

  describe("a push service that says the subscription is gone", () => {
    it.each([404, 410])("answering %i: the subscription is removed and later pushes skip it", async (status) => {
      await subscribe(first, firstSubscription);
      await subscribe(second, secondSubscription);
      firstSubscription.answerWith(status);
      const created = await push();
      const [toFirst] = await requestsFor(created, [firstSubscription, secondSubscription]);
      expect(toFirst!.status).toBe(status);
      expect(await batch("request", tagOf(toFirst!))).toMatchObject({ phones: 2, delivered: 1, gone: 1, failed: 0 });
      expect(await notificationsEnabled(first)).toBe(false);
      expect(await notificationsEnabled(second)).toBe(true);

      const later = await push();
      const [laterToSecond] = await requestsFor(later, [secondSubscription]);
      expect(await batch("request", tagOf(laterToSecond!))).toMatchObject({ phones: 1, delivered: 1 });
      expect(receivedBy(firstSubscription, later.login.id)).toEqual([]);
    });

    it("a push service's other failure is logged without the endpoint, and the subscription stays", async () => {
      await subscribe(first, firstSubscription);
      firstSubscription.answerWith(500);
      const created = await push();
      const [toFirst] = await requestsFor(created, [firstSubscription]);
      expect(await batch("request", tagOf(toFirst!))).toMatchObject({ phones: 1, failed: 1 });
      expect(await notificationsEnabled(first)).toBe(true);
      const warnings = logLines.filter((raw) => (JSON.parse(raw) as { level: number }).level >= 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('"statusCode":500');
      const { endpoint: url, keys } = firstSubscription.json;
      for (const capability of [url, new URL(url).pathname, keys.auth, keys.p256dh]) {
        expect(logLines.join("\n")).not.toContain(capability);
      }
    });
  });

  describe("a phone that should hear nothing gets nothing for a later request", () => {
    beforeEach(async () => {
      await subscribe(first, firstSubscription);
      await subscribe(second, secondSubscription);
    });

    const endings: Record<string, () => Promise<void>> = {
      "signed out": async () => {
        expect((await first.delete(API_PATHS.approverSession)).status).toBe(204);
      },
      revoked: async () => {
        const id = await sessionIdOf(first, second);
        expect((await second.delete(API_PATHS.approverSessionById(id))).status).toBe(204);
      },
      "whose passkey was removed": async () => {
        const { body } = await second.get<PasskeysResponse>(API_PATHS.approverPasskeys);
        const firstsPasskey = body.passkeys.find(
          (passkey) => passkey.id === firstAuthenticator.listCredentials()[0]?.id,
        );
        expect(firstsPasskey).toBeDefined();
        expect((await second.delete(API_PATHS.approverPasskey(firstsPasskey!.id))).status).toBe(204);
      },
      "that turned notifications off": async () => {
        expect((await first.delete(API_PATHS.approverPushSubscription)).status).toBe(204);
        expect(await notificationsEnabled(first)).toBe(false);
      },
    };

    it.each(Object.keys(endings))("a phone %s", async (ending) => {
      await endings[ending]!();
      const created = await push();
      const [toSecond] = await requestsFor(created, [secondSubscription]);
      // The batch is the whole send: the other phone was not among its recipients.
      expect(await batch("request", tagOf(toSecond!))).toMatchObject({ phones: 1, delivered: 1 });
      expect(receivedBy(firstSubscription, created.login.id)).toEqual([]);
    });
  });

  it("an unknown username's push sends nothing, and the desktop's answer has the same shape", async () => {
    await subscribe(first, firstSubscription);
    const known = await push("pia");
    const unknown = await push("nobody-here");
    const shape = (value: unknown): unknown =>
      value !== null && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]))
        : typeof value;
    expect(shape(unknown)).toEqual(shape(known));
    await requestsFor(known, [firstSubscription]);
    // The unknown name's request goes the same way, to nobody's phones.
    expect(await batch("request", pushTagOf(unknown.login.id))).toMatchObject({ phones: 0, delivered: 0 });
    expect(endpoint.received.filter((got) => got.message.id === unknown.login.id)).toEqual([]);
  });

  describe("subscriptions the server refuses", () => {
    const valid = (): TestSubscription["json"] => firstSubscription.json;
    const withKeys = (keys: Partial<TestSubscription["json"]["keys"]>): unknown => ({
      ...valid(),
      keys: { ...valid().keys, ...keys },
    });

    it.each<[string, () => unknown, string]>([
      [
        "an http endpoint",
        () => ({ ...valid(), endpoint: valid().endpoint.replace("https:", "http:") }),
        "VALIDATION_FAILED",
      ],
      [
        "a host that is no push service",
        () => ({ ...valid(), endpoint: "https://evil.example/push/1" }),
        "PUSH_SERVICE_REFUSED",
      ],
      [
        "a look-alike push service host",
        () => ({ ...valid(), endpoint: "https://fcm.googleapis.com.evil.example/fcm/send/1" }),
        "PUSH_SERVICE_REFUSED",
      ],
      [
        "a push service on another port",
        () => ({ ...valid(), endpoint: "https://fcm.googleapis.com:8443/x" }),
        "PUSH_SERVICE_REFUSED",
      ],
      [
        "credentials in the URL",
        () => ({ ...valid(), endpoint: valid().endpoint.replace("https://", "https://user:pw@") }),
        "PUSH_SERVICE_REFUSED",
      ],
      ["a 64-byte key", () => withKeys({ p256dh: Buffer.alloc(64, 4).toString("base64url") }), "VALIDATION_FAILED"],
      [
        "a 15-byte auth secret",
        () => withKeys({ auth: Buffer.alloc(15, 1).toString("base64url") }),
        "VALIDATION_FAILED",
      ],
      [
        "a 17-byte auth secret",
        () => withKeys({ auth: Buffer.alloc(17, 1).toString("base64url") }),
        "VALIDATION_FAILED",
      ],
      ["no keys", () => ({ endpoint: valid().endpoint }), "VALIDATION_FAILED"],
      ["an extra field", () => ({ ...valid(), userId: "someone-else" }), "VALIDATION_FAILED"],
      ["an extra key", () => withKeys({ ...valid().keys, extra: "x" } as never), "VALIDATION_FAILED"],
    ])("%s: 400 and nothing stored", async (_name, body, code) => {
      const refused = await putSubscription(first, body());
      expect([refused.status, codeOf(refused)]).toEqual([400, code]);
      expect((refused.body as ErrorResponse).error.message).not.toContain("evil");
      expect(await notificationsEnabled(first)).toBe(false);
    });

    it("without a phone's session: 401 for every subscription route", async () => {
      const anonymous = new HttpClient(server.origin, { userAgent: PHONE_UA });
      for (const response of [
        await putSubscription(anonymous, valid()),
        await anonymous.get(API_PATHS.approverPushSubscription),
        await anonymous.delete(API_PATHS.approverPushSubscription),
        // A computer's session is not a phone's.
        await putSubscription(desktop, valid()),
      ]) {
        expect([response.status, codeOf(response)]).toEqual([401, "UNAUTHENTICATED"]);
      }
    });
  });
});

describe("without WEB_PUSH_DEV_LOOPBACK", () => {
  beforeEach(() => start({}));

  it("refuses an endpoint on this machine's loopback", async () => {
    const refused = await putSubscription(first, firstSubscription.json);
    expect([refused.status, codeOf(refused)]).toEqual([400, "PUSH_SERVICE_REFUSED"]);
    expect(await notificationsEnabled(first)).toBe(false);
  });
});
