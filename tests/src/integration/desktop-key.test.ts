import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API_PATHS, type ErrorResponse, type SessionResponse } from "@countersign/shared";
import { desktopProof, newDesktopKey } from "../support/desktop-key.js";
import { approveOpened, createLogin, enrolPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/*
 * The redeem bound to the page that started it (DESIGN §11): the page sends the public half of a
 * non-extractable key when it creates a request and proves possession to watch and to redeem. The
 * desktop secret alone, copied to another machine, does nothing.
 */

let server: TestServer;
let desktop: HttpClient;
let phone: HttpClient;
let sockets: DesktopSocket[];

beforeEach(async () => {
  server = await startTestServer();
  desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  sockets = [];
});

afterEach(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

async function approvedLogin() {
  const authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "kim", displayName: "Kim" });
  const login = await createLogin(desktop);
  expect((await approveOpened(phone, authenticator, await openFromQr(phone, login))).status).toBe(200);
  return login;
}

describe("a redeem bound to the browser that started it", () => {
  it("refuses a redeem with the secret but no proof, another key's proof, a watch proof or a stale one", async () => {
    const login = await approvedLogin();
    const id = login.login.id;
    // Elsewhere: the secret was copied, the key was not (it cannot leave the page).
    const elsewhere = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const otherKey = (await newDesktopKey()).pair.privateKey;
    const origin = server.origin;
    const attempts: [string, Record<string, unknown>][] = [
      ["another key's proof", { proof: await desktopProof({ origin, id, use: "redeem", privateKey: otherKey }) }],
      ["a proof for watching", { proof: await desktopProof({ origin, id, use: "watch" }) }],
      ["a proof two minutes old", { proof: await desktopProof({ origin, id, use: "redeem", skewSeconds: -120 }) }],
    ];
    const missing = await elsewhere.request<ErrorResponse>("POST", API_PATHS.loginRedeem(id), {
      rawBody: JSON.stringify({ desktopSecret: login.desktopSecret }),
      headers: { "content-type": "application/json" },
    });
    expect([missing.status, missing.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
    for (const [what, extra] of attempts) {
      const refused = await elsewhere.post<ErrorResponse>(API_PATHS.loginRedeem(id), {
        desktopSecret: login.desktopSecret,
        ...extra,
      });
      // Like a wrong secret: 404, and nothing about which part was wrong.
      expect([what, refused.status, refused.body.error.code]).toEqual([what, 404, "LOGIN_NOT_FOUND"]);
    }
    expect((await server.store.getLoginRequest(id))?.status).toBe("approved");

    // The page that made it redeems (HttpClient adds a fresh proof of its key, as the page does).
    const redeemed = await desktop.post<SessionResponse>(API_PATHS.loginRedeem(id), {
      desktopSecret: login.desktopSecret,
    });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
  });

  it("lets only the key's holder watch the request", async () => {
    const login = await createLogin(desktop);
    const socket = new DesktopSocket(server.origin);
    sockets.push(socket);
    await socket.connected();
    const otherKey = (await newDesktopKey()).pair.privateKey;
    const stranger = await socket.watch({
      id: login.login.id,
      desktopSecret: login.desktopSecret,
      proof: await desktopProof({ origin: server.origin, id: login.login.id, use: "watch", privateKey: otherKey }),
    });
    expect(stranger).toMatchObject({ ok: false, error: { code: "LOGIN_NOT_FOUND" } });
    expect(await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret })).toMatchObject({ ok: true });
  });

  it("refuses a new request without the page's public key, or with one that is not a P-256 key", async () => {
    const bare = await desktop.request<ErrorResponse>("POST", API_PATHS.logins, {
      rawBody: "{}",
      headers: { "content-type": "application/json" },
    });
    expect([bare.status, bare.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
    const { publicKey } = await newDesktopKey();
    const wrongCurve = await desktop.post<ErrorResponse>(API_PATHS.logins, {
      desktopKey: { ...publicKey, crv: "P-384" },
    });
    expect(wrongCurve.status).toBe(400);
    const extra = await desktop.post<ErrorResponse>(API_PATHS.logins, { desktopKey: { ...publicKey, d: "secret" } });
    expect(extra.status).toBe(400);
  });
});
