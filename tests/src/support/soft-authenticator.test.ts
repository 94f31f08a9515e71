import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type WebAuthnCredential,
} from "@simplewebauthn/server";
import { beforeEach, describe, expect, it } from "vitest";
import { SoftAuthenticator, type CeremonyOverrides } from "./soft-authenticator.js";

const ORIGIN = "http://localhost:3000";
const RP_ID = "localhost";

async function registrationOptions(): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: "Countersign tests",
    rpID: RP_ID,
    userName: "alice",
    attestationType: "none",
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
}

/** Registers a credential end to end and returns what a server would store. */
async function register(authenticator: SoftAuthenticator): Promise<{ credential: WebAuthnCredential; userId: string }> {
  const options = await registrationOptions();
  const response = await authenticator.createCredential(options);
  const verification = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification: true,
  });
  expect(verification.verified).toBe(true);
  if (verification.registrationInfo === undefined) throw new Error("no registrationInfo");
  return { credential: verification.registrationInfo.credential, userId: options.user.id };
}

async function assertion(
  authenticator: SoftAuthenticator,
  overrides: CeremonyOverrides = {},
): Promise<{ response: AuthenticationResponseJSON; challenge: string }> {
  const options = await generateAuthenticationOptions({ rpID: RP_ID, userVerification: "required" });
  return { response: await authenticator.getAssertion(options, overrides), challenge: options.challenge };
}

async function verifyAssertion(
  response: AuthenticationResponseJSON,
  challenge: string,
  credential: WebAuthnCredential,
): Promise<Awaited<ReturnType<typeof verifyAuthenticationResponse>>> {
  return verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential,
    requireUserVerification: true,
  });
}

describe("SoftAuthenticator against @simplewebauthn/server", () => {
  let authenticator: SoftAuthenticator;

  beforeEach(() => {
    authenticator = new SoftAuthenticator({ origin: ORIGIN });
  });

  it("registers and then authenticates with increasing counters", async () => {
    const { credential, userId } = await register(authenticator);
    expect(credential.counter).toBe(0);
    expect(authenticator.listCredentials()).toEqual([
      { id: credential.id, rpId: RP_ID, userHandle: userId, signCount: 0 },
    ]);

    const first = await assertion(authenticator);
    expect(first.response.response.userHandle).toBe(userId);
    const firstResult = await verifyAssertion(first.response, first.challenge, credential);
    expect(firstResult.verified).toBe(true);
    expect(firstResult.authenticationInfo.newCounter).toBe(1);
    expect(firstResult.authenticationInfo.userVerified).toBe(true);

    const second = await assertion(authenticator);
    const secondResult = await verifyAssertion(second.response, second.challenge, {
      ...credential,
      counter: firstResult.authenticationInfo.newCounter,
    });
    expect(secondResult.verified).toBe(true);
    expect(secondResult.authenticationInfo.newCounter).toBe(2);
  });

  it("rejects a registration from another origin", async () => {
    const options = await registrationOptions();
    const response = await authenticator.createCredential(options, { origin: "http://evil.example" });
    await expect(
      verifyRegistrationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
      }),
    ).rejects.toThrow(/origin/i);
  });

  it("rejects an assertion from another origin", async () => {
    const { credential } = await register(authenticator);
    const { response, challenge } = await assertion(authenticator, { origin: "http://evil.example" });
    await expect(verifyAssertion(response, challenge, credential)).rejects.toThrow(/origin/i);
  });

  it("rejects an assertion hashed for another RP ID", async () => {
    const { credential } = await register(authenticator);
    const { response, challenge } = await assertion(authenticator, { rpId: "evil.example" });
    await expect(verifyAssertion(response, challenge, credential)).rejects.toThrow(/RP ID hash/);
  });

  it("rejects a registration without user verification when it is required", async () => {
    const options = await registrationOptions();
    const response = await authenticator.createCredential(options, { userVerified: false });
    await expect(
      verifyRegistrationResponse({
        response,
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
      }),
    ).rejects.toThrow(/could not be verified/);
  });

  it("rejects an assertion without user verification when it is required", async () => {
    const { credential } = await register(authenticator);
    const { response, challenge } = await assertion(authenticator, { userVerified: false });
    await expect(verifyAssertion(response, challenge, credential)).rejects.toThrow(/could not be verified/);
  });

  it("rejects an assertion signed over another challenge", async () => {
    const { credential } = await register(authenticator);
    const signedForA = await assertion(authenticator);
    const b = await generateAuthenticationOptions({ rpID: RP_ID, userVerification: "required" });
    expect(b.challenge).not.toBe(signedForA.challenge);
    await expect(verifyAssertion(signedForA.response, b.challenge, credential)).rejects.toThrow(/challenge/);
  });

  it("rejects a counter that goes backwards", async () => {
    const { credential } = await register(authenticator);
    let counter = credential.counter;
    for (let i = 0; i < 2; i += 1) {
      const { response, challenge } = await assertion(authenticator);
      counter = (await verifyAssertion(response, challenge, { ...credential, counter })).authenticationInfo.newCounter;
    }
    expect(counter).toBe(2);

    const cloned = await assertion(authenticator, { signCount: 1 });
    await expect(verifyAssertion(cloned.response, cloned.challenge, { ...credential, counter })).rejects.toThrow(
      /lower than expected/,
    );
    // The forced lower counter must not regress the authenticator's own counter.
    const honest = await assertion(authenticator);
    const result = await verifyAssertion(honest.response, honest.challenge, { ...credential, counter });
    expect(result.authenticationInfo.newCounter).toBe(3);
  });

  it("refuses to create a credential listed in excludeCredentials", async () => {
    const { credential } = await register(authenticator);
    const options = await generateRegistrationOptions({
      rpName: "Countersign tests",
      rpID: RP_ID,
      userName: "alice",
      attestationType: "none",
      excludeCredentials: [{ id: credential.id }],
    });
    await expect(authenticator.createCredential(options)).rejects.toThrow(/excluded/);
    expect(authenticator.listCredentials()).toHaveLength(1);
  });

  it("uses the requested allowCredentials entry and throws when it holds none", async () => {
    const { credential: older } = await register(authenticator);
    await register(authenticator);
    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: [{ id: older.id }],
    });
    expect((await authenticator.getAssertion(options)).id).toBe(older.id);

    const stranger = new SoftAuthenticator({ origin: ORIGIN });
    await expect(stranger.getAssertion(options)).rejects.toThrow(/no matching credential/);
  });
});
