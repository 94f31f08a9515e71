import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API_PATHS, type CreatePushLoginResponse } from "@countersign/shared";
import { DEFAULT_RATE_LIMITS } from "@countersign/server";
import { createLogin, enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { ApproverSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { RELAXED_RATE_LIMITS, startTestServer, type TestServer } from "../support/test-server.js";

const TEN_MINUTES = 10 * 60_000;
const NETWORK = "198.51.100.10";

let server: TestServer;
let approver: ApproverSocket;
let desktop: HttpClient;

beforeEach(async () => {
  // Behind a trusted proxy, so the desktop's network is the one X-Forwarded-For names.
  server = await startTestServer({
    env: { TRUST_PROXY: "true" },
    rateLimits: {
      ...RELAXED_RATE_LIMITS,
      pushFromSource: DEFAULT_RATE_LIMITS.pushFromSource,
      pushToUser: DEFAULT_RATE_LIMITS.pushToUser,
    },
  });
  const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  await enrolPhone(phone, new SoftAuthenticator({ origin: server.origin }), { username: "pia", displayName: "Pia" });
  approver = new ApproverSocket(server.origin, { cookie: phone.cookieHeader });
  await approver.connected();
  desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
});

afterEach(async () => {
  approver.close();
  await server.close();
});

async function pushFrom(ip: string): Promise<CreatePushLoginResponse> {
  const pushed = await desktop.request<CreatePushLoginResponse>("POST", API_PATHS.pushLogins, {
    json: { username: "pia" },
    headers: { "x-forwarded-for": ip },
  });
  // Delivered or not, the desktop gets the same answer.
  expect(pushed.status).toBe(201);
  return pushed.body;
}

async function expectDelivered(ip: string): Promise<void> {
  const pushed = await pushFrom(ip);
  await approver.waitUntil(
    () => approver.requests.some((review) => review.id === pushed.login.id),
    "the push on the phone",
  );
}

/**
 * A push the phone is not asked about. "Not asked" is checked against a marker: the phone's
 * socket also watches a QR request, which is cancelled right after the push; the one process
 * sends both in that order, so once the cancel has arrived, a push would have arrived before it.
 */
async function expectNotDelivered(ip: string): Promise<void> {
  const marker = await createLogin(desktop);
  expect(await approver.watch({ id: marker.login.id, desktopSecret: marker.desktopSecret })).toMatchObject({
    ok: true,
  });
  const pushed = await pushFrom(ip);
  const cancelled = await desktop.post(API_PATHS.loginCancel(marker.login.id), { desktopSecret: marker.desktopSecret });
  expect(cancelled.status).toBe(200);
  await approver.waitUntil(
    () => approver.updates.some((update) => update.id === marker.login.id && update.status === "cancelled"),
    "the marker's cancel",
  );
  expect(approver.requests.map((review) => review.id)).not.toContain(pushed.login.id);
}

describe("push sign-in is limited to 3 pushes per network per 10 minutes, on the server's clock", () => {
  it("does not deliver the 4th push from one network until 10 minutes after the first have passed", async () => {
    expect(DEFAULT_RATE_LIMITS.pushFromSource).toEqual({ points: 3, durationSeconds: 600 });
    for (let push = 0; push < 3; push += 1) await expectDelivered(NETWORK);
    await expectNotDelivered(NETWORK);

    // One millisecond short of the window, the network is still spent.
    server.clock.advance(TEN_MINUTES - 1);
    await expectNotDelivered(NETWORK);

    server.clock.advance(1);
    await expectDelivered(NETWORK);
  });
});
