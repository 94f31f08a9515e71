import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type ErrorResponse,
  type PasskeySignInOptionsResponse,
  type SessionResponse,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let desktop: HttpClient;
// One authenticator plays the passkey the desktop browser reaches: its own, a phone over
// hybrid, or a security key.
let passkey: SoftAuthenticator;

beforeEach(async () => {
  server = await startTestServer();
  desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
  passkey = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(new HttpClient(server.origin, { userAgent: PHONE_UA }), passkey, {
    username: "direct",
    displayName: "Direct",
  });
});

afterEach(async () => {
  await server.close();
});

async function signInWith(authenticator: SoftAuthenticator) {
  const start = await desktop.post<PasskeySignInOptionsResponse>(API_PATHS.passkeySignInOptions, {});
  expect(start.status).toBe(200);
  const credential = await authenticator.getAssertion(
    start.body.options as unknown as PublicKeyCredentialRequestOptionsJSON,
  );
  const body = { ceremonyId: start.body.ceremonyId, credential };
  return { body, response: await desktop.post<SessionResponse>(API_PATHS.passkeySignInVerify, body) };
}

describe("direct passkey sign-in on the desktop", () => {
  it("signs the desktop in with the passkey alone: no username, a desktop session cookie", async () => {
    const { response } = await signInWith(passkey);
    expect(response.status).toBe(200);
    expect(response.body.session).toMatchObject({
      kind: "desktop",
      method: "passkey",
      passkeyLabel: "Pixel 8 · Chrome",
      user: { username: "direct" },
      approvedWith: null,
    });
    expect((await desktop.get(API_PATHS.session)).status).toBe(200);
  });

  it("refuses a replayed assertion and a passkey it never enrolled", async () => {
    const { body } = await signInWith(passkey);
    const replay = await desktop.post(API_PATHS.passkeySignInVerify, body);
    expect((replay.body as ErrorResponse).error.code).toBe("CEREMONY_NOT_FOUND");

    const stranger = new SoftAuthenticator({ origin: server.origin });
    await stranger.createCredential({
      rp: { id: "localhost", name: "x" },
      user: { id: "AAAA", name: "x", displayName: "x" },
      challenge: "AAAA",
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    });
    const fresh = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    desktop = fresh;
    const { response } = await signInWith(stranger);
    expect((response.body as unknown as ErrorResponse).error.code).toBe("UNKNOWN_CREDENTIAL");
    expect(fresh.cookies.size).toBe(0);
  });
});
