import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API_PATHS, type PasskeysResponse } from "@countersign/shared";
import { createLogin, enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import {
  accountWithTwoPhones,
  expectNoPushAfterSessionEnded,
  sessionIdOf,
  type Deployment,
  type TwoPhones,
} from "../support/revoked-phone.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const SESSION_TTL_SECONDS = 3_600;
let server: TestServer;
let deployment: Deployment;
let phones: TwoPhones;

beforeEach(async () => {
  // Phones have their own lifetime (APPROVER_SESSION_TTL_SECONDS); here both are an hour.
  server = await startTestServer({
    env: {
      SESSION_TTL_SECONDS: String(SESSION_TTL_SECONDS),
      APPROVER_SESSION_TTL_SECONDS: String(SESSION_TTL_SECONDS),
    },
  });
  deployment = { origin: server.origin, socketUrl: server.origin, httpUrl: server.origin };
});

afterEach(async () => {
  phones?.close();
  await server.close();
});

describe("a phone whose session ends stops hearing push requests on its open socket", () => {
  it("when it signs out", async () => {
    phones = await accountWithTwoPhones({ deployment, username: "rita" });
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "rita",
      reason: "signed_out",
      endSession: async () => {
        expect((await phones.first.delete(API_PATHS.approverSession)).status).toBe(204);
      },
    });
  });

  it("when another phone revokes it", async () => {
    phones = await accountWithTwoPhones({ deployment, username: "rita" });
    const id = await sessionIdOf(phones.first, phones.second);
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "rita",
      reason: "revoked",
      endSession: async () => {
        expect((await phones.second.delete(API_PATHS.approverSessionById(id))).status).toBe(204);
      },
    });
  });

  it("is told once: a revoked socket hears nothing more when the session's time would have run out", async () => {
    phones = await accountWithTwoPhones({ deployment, username: "rita" });
    const id = await sessionIdOf(phones.first, phones.second);
    expect((await phones.second.delete(API_PATHS.approverSessionById(id))).status).toBe(204);
    await phones.firstSocket.waitUntil(() => phones.firstSocket.sessionEnded.length > 0, "session:ended");
    server.clock.advance(SESSION_TTL_SECONDS * 1000);
    // A marker sent after the expiry timer ran: once it arrives, a second "ended" would have too.
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const marker = await createLogin(desktop);
    await phones.firstSocket.watch({ id: marker.login.id, desktopSecret: marker.desktopSecret });
    await desktop.post(API_PATHS.loginCancel(marker.login.id), { desktopSecret: marker.desktopSecret });
    await phones.firstSocket.waitUntil(() => phones.firstSocket.updates.length > 0, "the marker");
    expect(phones.firstSocket.sessionEnded).toEqual([{ reason: "revoked" }]);
  });

  it("when the passkey it signed in with is removed", async () => {
    phones = await accountWithTwoPhones({ deployment, username: "rita" });
    const { body } = await phones.first.get<PasskeysResponse>(API_PATHS.approverPasskeys);
    const firstPasskey = body.passkeys.find(
      (passkey) => passkey.id === phones.firstAuthenticator.listCredentials()[0]?.id,
    );
    expect(firstPasskey).toBeDefined();
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "rita",
      reason: "revoked",
      endSession: async () => {
        expect((await phones.second.delete(API_PATHS.approverPasskey(firstPasskey!.id))).status).toBe(204);
      },
    });
  });

  it("when the same phone enrols a new account, replacing its session", async () => {
    phones = await accountWithTwoPhones({ deployment, username: "rita" });
    const oldCookie = phones.first.cookieHeader;
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "rita",
      reason: "replaced",
      endSession: async () => {
        await enrolPhone(phones.first, new SoftAuthenticator({ origin: server.origin }), {
          username: "rita-new",
          displayName: "Rita",
        });
      },
    });
    // The replaced session is gone, not merely forgotten by the phone.
    const stale = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const response = await stale.request("GET", API_PATHS.approverSession, { headers: { cookie: oldCookie } });
    expect(response.status).toBe(401);
  });

  it("when it expires", async () => {
    // The other phone joins a minute later, so it is still signed in when the first expires.
    phones = await accountWithTwoPhones({
      deployment,
      username: "rita",
      beforeSecondPhone: () => server.clock.advance(60_000),
    });
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "rita",
      reason: "expired",
      endSession: async () => {
        server.clock.advance(SESSION_TTL_SECONDS * 1000 - 60_000);
      },
    });
  });
});
