import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type EnrolmentOptionsResponse,
  type ErrorResponse,
  type PasskeySignInOptionsResponse,
} from "@countersign/shared";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { DESKTOP_UA, HttpClient, PHONE_UA, type ApiResponse } from "../support/http-client.js";
import { SoftAuthenticator, type CeremonyOverrides } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** WebAuthn L3 §5.1 (credential id): at most 1023 bytes. */
const MAX_CREDENTIAL_ID_BYTES = 1023;

let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;

beforeEach(async () => {
  server = await startTestServer();
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
});

afterEach(async () => {
  await server.close();
});

/** Enrols a new account with a passkey made with `overrides`; `tamper` plays a client that edits the response. */
async function enrol(options: {
  username: string;
  overrides: CeremonyOverrides;
  tamper?: (credential: RegistrationResponseJSON) => RegistrationResponseJSON;
}): Promise<{ response: ApiResponse<unknown>; credentialId: string }> {
  const start = await phone.post<EnrolmentOptionsResponse>(API_PATHS.enrolmentOptions, {
    username: options.username,
    displayName: options.username,
  });
  expect(start.status, JSON.stringify(start.body)).toBe(200);
  const created = await authenticator.createCredential(
    start.body.options as unknown as PublicKeyCredentialCreationOptionsJSON,
    options.overrides,
  );
  const credential = options.tamper?.(created) ?? created;
  const response = await phone.post(API_PATHS.enrolmentVerify, { ceremonyId: start.body.ceremonyId, credential });
  return { response, credentialId: created.id };
}

async function expectNothingStored(username: string, credentialId: string): Promise<void> {
  expect(await server.store.findUserByUsername(username)).toBeNull();
  expect(await server.store.getCredential(credentialId)).toBeNull();
  expect(phone.cookies.size).toBe(0);
}

const errorOf = (response: ApiResponse<unknown>): [number, string, string] => [
  response.status,
  (response.body as ErrorResponse).error?.code,
  (response.body as ErrorResponse).error?.message,
];

describe("registration refuses passkeys the server could never verify", () => {
  it("refuses an EC2 public key whose point is not on P-256", async () => {
    const { response, credentialId } = await enrol({
      username: "offcurve",
      overrides: { publicKeyShape: "off-curve" },
    });
    expect(errorOf(response)).toEqual([400, "WEBAUTHN_VERIFICATION_FAILED", expect.stringMatching(/public key/i)]);
    await expectNothingStored("offcurve", credentialId);
  });

  it("refuses a public key of a key type COSE does not define", async () => {
    const { response, credentialId } = await enrol({
      username: "oddkty",
      overrides: { publicKeyShape: "unknown-kty" },
    });
    expect(errorOf(response)).toEqual([400, "WEBAUTHN_VERIFICATION_FAILED", expect.stringMatching(/public key/i)]);
    await expectNothingStored("oddkty", credentialId);
  });

  it("refuses an algorithm it did not offer (EdDSA), even with a valid key", async () => {
    const { response, credentialId } = await enrol({ username: "eddsa", overrides: { publicKeyShape: "eddsa" } });
    expect(errorOf(response)).toEqual([400, "WEBAUTHN_VERIFICATION_FAILED", expect.stringMatching(/alg/i)]);
    await expectNothingStored("eddsa", credentialId);
  });

  it("refuses a credential id one byte over the limit", async () => {
    const { response, credentialId } = await enrol({
      username: "longid",
      overrides: { credentialIdBytes: MAX_CREDENTIAL_ID_BYTES + 1 },
    });
    // The request's own id is over the limit too, so the schema refuses it before any verification.
    expect(errorOf(response).slice(0, 2)).toEqual([400, "VALIDATION_FAILED"]);
    await expectNothingStored("longid", credentialId);
  });

  it("refuses an over-long credential id in the authenticator data when the JSON names a short one", async () => {
    const { response, credentialId } = await enrol({
      username: "hiddenid",
      overrides: { credentialIdBytes: MAX_CREDENTIAL_ID_BYTES + 1 },
      tamper: (credential) => ({ ...credential, id: "c2hvcnQ", rawId: "c2hvcnQ" }),
    });
    expect(errorOf(response)).toEqual([400, "WEBAUTHN_VERIFICATION_FAILED", expect.stringMatching(/credential id/i)]);
    await expectNothingStored("hiddenid", credentialId);
  });

  it("refuses an RSA key with a modulus under 2048 bits", async () => {
    const { response, credentialId } = await enrol({
      username: "weakrsa",
      overrides: { publicKeyShape: "rs256-1024" },
    });
    expect(errorOf(response)).toEqual([400, "WEBAUTHN_VERIFICATION_FAILED", expect.stringMatching(/1024 bits/)]);
    await expectNothingStored("weakrsa", credentialId);
  });

  it("accepts a 2048-bit RS256 key, which then signs in", async () => {
    const { response, credentialId } = await enrol({ username: "hello", overrides: { publicKeyShape: "rs256" } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const start = await desktop.post<PasskeySignInOptionsResponse>(API_PATHS.passkeySignInOptions, {});
    expect(start.status).toBe(200);
    const credential = await authenticator.getAssertion(
      start.body.options as unknown as PublicKeyCredentialRequestOptionsJSON,
      { credentialId },
    );
    const signedIn = await desktop.post(API_PATHS.passkeySignInVerify, {
      ceremonyId: start.body.ceremonyId,
      credential,
    });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
  });

  it("accepts a credential id of exactly the limit, and a sound P-256 key", async () => {
    const { response, credentialId } = await enrol({
      username: "maxid",
      overrides: { credentialIdBytes: MAX_CREDENTIAL_ID_BYTES },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect((await server.store.getCredential(credentialId))?.id).toBe(credentialId);
  });
});
