import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type CreatePushLoginResponse,
  type InboxResponse,
  type LoginStatus,
  type PushMatchResponse,
} from "@countersign/shared";
import { createMemoryStore, DEFAULT_RATE_LIMITS, type Store } from "@countersign/server";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA, type ApiResponse } from "../support/http-client.js";
import { ApproverSocket, DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { RELAXED_RATE_LIMITS, startTestServer, type TestServer } from "../support/test-server.js";

/** The production push limits (per person and network, and per person), everything else relaxed. */
const PUSH_LIMITS = {
  ...RELAXED_RATE_LIMITS,
  pushFromSource: DEFAULT_RATE_LIMITS.pushFromSource,
  pushToUser: DEFAULT_RATE_LIMITS.pushToUser,
};

let server: TestServer;
let storeCalls: string[];
let phone: HttpClient;
let authenticator: SoftAuthenticator;
const sockets: { close(): void }[] = [];

/** The store, with every call's method name written down in order. */
function countingStore(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        storeCalls.push(String(property));
        return (value as (...inner: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

beforeEach(async () => {
  storeCalls = [];
  // Behind a trusted proxy, so each test client can come from its own network.
  server = await startTestServer({
    env: { TRUST_PROXY: "true" },
    rateLimits: PUSH_LIMITS,
    store: (clock) => countingStore(createMemoryStore({ clock })),
  });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "pia", displayName: "Pia" });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await server.close();
});

function desktopAt(ip: string): { push(username: string): Promise<ApiResponse<CreatePushLoginResponse>> } {
  const client = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  return {
    push: (username) =>
      client.request<CreatePushLoginResponse>("POST", API_PATHS.pushLogins, {
        json: { username },
        headers: { "x-forwarded-for": ip },
      }),
  };
}

async function watch(created: CreatePushLoginResponse): Promise<DesktopSocket> {
  const socket = new DesktopSocket(server.origin);
  sockets.push(socket);
  await socket.connected();
  expect(await socket.watch({ id: created.login.id, desktopSecret: created.desktopSecret })).toMatchObject({
    ok: true,
  });
  return socket;
}

/** The value's structure: keys and types, not contents. */
const shape = (value: unknown): unknown =>
  value !== null && typeof value === "object"
    ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]))
    : typeof value;

/**
 * The headers a response would have whoever asked: names, and every value but the clock's and
 * the request id's (random for every request, so only its form is compared).
 */
const headersOf = (response: ApiResponse): Record<string, string> =>
  Object.fromEntries(
    [...response.headers]
      .filter(([name]) => !["date", "content-length", "etag"].includes(name))
      .map(([name, value]): [string, string] =>
        name === "x-request-id" ? [name, value.replace(/[A-Za-z0-9_-]/g, "x")] : [name, value],
      )
      .sort(),
  );

/**
 * Five pushes in a row from one network, each desktop watching its own request, and what a
 * desktop can observe of them: statuses, headers, body shapes, the events each desktop saw, and
 * the store operations the server ran for them.
 */
async function observeFivePushes(username: string, ip: string) {
  const desktop = desktopAt(ip);
  const answers: ApiResponse<CreatePushLoginResponse>[] = [];
  const watchers: DesktopSocket[] = [];
  const callsBefore = storeCalls.length;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const answer = await desktop.push(username);
    expect(answer.status).toBe(201);
    answers.push(answer);
    watchers.push(await watch(answer.body));
  }
  const calls = storeCalls.slice(callsBefore);
  // Every request but the last was replaced by the next one from the same network.
  for (const watcher of watchers.slice(0, -1)) await watcher.waitForStatus("superseded");
  const last = watchers.at(-1)!;
  const lastState = await last.watch({
    id: answers.at(-1)!.body.login.id,
    desktopSecret: answers.at(-1)!.body.desktopSecret,
  });
  return {
    statuses: answers.map((answer) => answer.status),
    headers: answers.map(headersOf),
    bodies: answers.map((answer) => shape(answer.body)),
    events: watchers.slice(0, -1).map((watcher) => watcher.statuses()),
    lastStatus: lastState.ok ? lastState.login.status : null,
    // Watching is the test's own doing; the pushes' own store work is what must match.
    storeCalls: calls.filter((call) => call !== "getLoginRequest"),
  };
}

describe("push sign-in tells a desktop nothing about whether a username exists", () => {
  it("treats a second (and fifth) push from the same network alike for an existing and an unknown name", async () => {
    const existing = await observeFivePushes("pia", "198.51.100.10");
    const unknown = await observeFivePushes("nobody-here", "198.51.100.20");
    expect(unknown).toEqual(existing);
    expect(existing.events).toEqual(Array.from({ length: 4 }, () => ["superseded"] satisfies LoginStatus[]));
    expect(existing.lastStatus).toBe("pending");
  });

  it("treats a paused person alike with an unknown name", async () => {
    const reported = await desktopAt("198.51.100.30").push("pia");
    expect((await phone.post(API_PATHS.pushDeny(reported.body.login.id), { reason: "not_me" })).status).toBe(200);
    const paused = await observeFivePushes("pia", "198.51.100.31");
    const unknown = await observeFivePushes("nobody-at-all", "198.51.100.32");
    expect(unknown).toEqual(paused);
  });
});

describe("a stranger's pushes do not get in the way of the person's own", () => {
  it("can neither replace the person's pending push nor use up the pushes from the person's network", async () => {
    const approver = new ApproverSocket(server.origin, { cookie: phone.cookieHeader });
    sockets.push(approver);
    await approver.connected();
    const stranger = desktopAt("203.0.113.66");
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await stranger.push("pia")).status).toBe(201);

    const own = await desktopAt("198.51.100.7").push("pia");
    const ownSocket = await watch(own.body);
    await approver.waitUntil(() => approver.requests.some((review) => review.id === own.body.login.id), "own push");
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await stranger.push("pia")).status).toBe(201);

    // Still pending after the stranger's later pushes, and in the phone's inbox.
    const state = await ownSocket.watch({ id: own.body.login.id, desktopSecret: own.body.desktopSecret });
    expect(state).toMatchObject({ ok: true, login: { status: "pending" } });
    const inbox = await phone.get<InboxResponse>(API_PATHS.approverInbox);
    expect(inbox.body.requests.map((review) => review.id)).toContain(own.body.login.id);
    // The stranger reached the phone at most as often as one network may.
    const fromStranger = approver.requests.filter((review) => review.id !== own.body.login.id);
    expect(fromStranger.length).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.pushFromSource.points);

    // And the person signs in with it: the right number, then the passkey.
    const matched = await phone.post<PushMatchResponse>(API_PATHS.pushMatch(own.body.login.id), {
      choice: own.body.matchNumber,
    });
    expect(matched.body.matched).toBe(true);
    if (!matched.body.matched) return;
    const credential = await authenticator.getAssertion(
      matched.body.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const approved = await phone.post(API_PATHS.pushApprove(own.body.login.id), {
      ceremonyId: matched.body.approval.ceremonyId,
      credential,
    });
    expect(approved.status).toBe(200);
    await ownSocket.waitForStatus("approved");
  });
});
