import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type CreatePushLoginResponse,
  type ErrorResponse,
  type PushMatchResponse,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let phone: HttpClient;
let pia: SoftAuthenticator;
let ola: SoftAuthenticator;

beforeEach(async () => {
  server = await startTestServer();
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  pia = new SoftAuthenticator({ origin: server.origin });
  ola = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, pia, { username: "pia", displayName: "Pia" });
  await enrolPhone(new HttpClient(server.origin, { userAgent: PHONE_UA }), ola, {
    username: "ola",
    displayName: "Ola",
  });
});

afterEach(async () => {
  await server.close();
});

describe("a passkey's use is recorded only once the request accepts its owner", () => {
  it("a push approval signed with another account's passkey is refused and leaves that passkey untouched", async () => {
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const created = await desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username: "pia" });
    expect(created.status).toBe(201);
    // Pia's signed-in phone gets the prompt; the passkey offered is Ola's (a shared device, say).
    const matched = await phone.post<PushMatchResponse>(API_PATHS.pushMatch(created.body.login.id), {
      choice: created.body.matchNumber,
    });
    expect(matched.status).toBe(200);
    if (!matched.body.matched) throw new Error("the right number did not match");
    const olaPasskeyId = ola.listCredentials()[0]!.id;
    server.clock.advance(5_000);
    const before = await server.store.getCredential(olaPasskeyId);
    expect(before).not.toBeNull();

    const credential = await ola.getAssertion(
      matched.body.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const approved = await phone.post(API_PATHS.pushApprove(created.body.login.id), {
      ceremonyId: matched.body.approval.ceremonyId,
      credential,
    });
    expect([approved.status, (approved.body as ErrorResponse).error.code]).toEqual([400, "UNKNOWN_CREDENTIAL"]);
    expect(await server.store.getCredential(olaPasskeyId)).toEqual(before);
    expect((await server.store.getLoginRequest(created.body.login.id))?.status).not.toBe("approved");
  });
});
