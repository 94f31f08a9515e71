import { afterEach, describe, expect, it } from "vitest";
import { API_PATHS, type ErrorResponse } from "@countersign/shared";
import type { RateLimitPolicies } from "@countersign/server";
import { createLogin, openFromQr, qrLinkOf } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { RELAXED_RATE_LIMITS, startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer | undefined;
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

afterEach(async () => {
  await server?.close();
});

async function serverLimiting(action: keyof RateLimitPolicies): Promise<TestServer> {
  server = await startTestServer({
    rateLimits: { ...RELAXED_RATE_LIMITS, [action]: { points: 3, durationSeconds: 60 } },
  });
  return server;
}

describe("every route that stores something for an anonymous caller is limited", () => {
  it("limits opening a request by its QR token per address", async () => {
    const { origin } = await serverLimiting("openApproval");
    const phone = new HttpClient(origin, { userAgent: PHONE_UA });
    const login = await createLogin(new HttpClient(origin, { userAgent: DESKTOP_UA }));
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push((await phone.post(API_PATHS.approvalsOpen, qrLinkOf(login))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("limits starting passkey prompts per address", async () => {
    const { origin } = await serverLimiting("startApproval");
    const phone = new HttpClient(origin, { userAgent: PHONE_UA });
    const login = await createLogin(new HttpClient(origin, { userAgent: DESKTOP_UA }));
    const { qrToken } = await openFromQr(phone, login);
    const { id } = login.login;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push((await phone.post(API_PATHS.loginApprovalOptions(id), { qrToken })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("limits watching requests per address, answering in the acknowledgement", async () => {
    const { origin } = await serverLimiting("watchLogin");
    const login = await createLogin(new HttpClient(origin, { userAgent: DESKTOP_UA }));
    const socket = new DesktopSocket(origin);
    await socket.connected();
    try {
      const acks = [];
      for (let attempt = 0; attempt < 4; attempt += 1) {
        acks.push(await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret }));
      }
      expect(acks.map((ack) => ack.ok)).toEqual([true, true, true, false]);
      expect(acks[3]).toMatchObject({ ok: false, error: { code: "RATE_LIMITED" } });
    } finally {
      socket.close();
    }
  });

  it("caps the passkey prompts one request can have, whoever asks", async () => {
    server = await startTestServer();
    const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const login = await createLogin(new HttpClient(server.origin, { userAgent: DESKTOP_UA }));
    const { qrToken } = await openFromQr(phone, login);
    const { id } = login.login;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10; attempt += 1) {
      statuses.push((await phone.post(API_PATHS.loginApprovalOptions(id), { qrToken })).status);
    }
    // Opening started the first; nine more fit under the cap of ten.
    expect(statuses).toEqual([...Array.from({ length: 9 }, () => 200), 429]);
    const refused = await phone.post(API_PATHS.loginApprovalOptions(id), { qrToken });
    expect(codeOf(refused.body)).toBe("RATE_LIMITED");
    // Another request has its own cap.
    const other = await createLogin(new HttpClient(server.origin, { userAgent: DESKTOP_UA }));
    expect((await phone.post(API_PATHS.approvalsOpen, qrLinkOf(other))).status).toBe(200);
  });
});
