import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import type { AuthenticationResponse, RegistrationResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { CredentialRecord } from "../store/store.js";

export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

/** ES256 first (every platform authenticator), RS256 for Windows Hello. */
const ALGORITHMS = [-7, -257];

/**
 * Registration options for a discoverable passkey with user verification (DESIGN §3.1):
 * the passkey alone identifies the person later, so it must live on the authenticator.
 */
export async function buildRegistrationOptions(options: {
  rp: RelyingParty;
  challenge: string;
  username: string;
  displayName: string;
  webauthnUserId: string;
  exclude: CredentialRecord[];
}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: options.rp.name,
    rpID: options.rp.id,
    userName: options.username,
    userDisplayName: options.displayName,
    userID: Buffer.from(options.webauthnUserId, "base64url"),
    challenge: Buffer.from(options.challenge, "base64url"),
    attestationType: "none",
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
    excludeCredentials: options.exclude.map((credential) => ({
      id: credential.id,
      transports: credential.transports as AuthenticatorTransport[],
    })),
    supportedAlgorithmIDs: ALGORITHMS,
    timeout: 120_000,
  });
}

export interface VerifiedRegistration {
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
}

export async function verifyRegistration(options: {
  rp: RelyingParty;
  challenge: string;
  response: RegistrationResponse;
}): Promise<VerifiedRegistration> {
  const result = await verifyOrFail(() =>
    verifyRegistrationResponse({
      response: options.response,
      expectedChallenge: options.challenge,
      expectedOrigin: options.rp.origin,
      expectedRPID: options.rp.id,
      requireUserVerification: true,
    }),
  );
  if (!result.verified || result.registrationInfo === undefined) {
    throw new AppError("WEBAUTHN_VERIFICATION_FAILED", "The passkey could not be verified.");
  }
  const info = result.registrationInfo;
  return {
    credentialId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
    counter: info.credential.counter,
    transports: info.credential.transports ?? options.response.response.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
  };
}

/** Assertion options with no allowCredentials: the phone offers whichever passkey it holds. */
export async function buildAuthenticationOptions(options: {
  rp: RelyingParty;
  challenge: string;
}): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: options.rp.id,
    challenge: Buffer.from(options.challenge, "base64url"),
    userVerification: "required",
    timeout: 120_000,
  });
}

/** Checks signature, challenge, origin, RP ID, user verification and the counter. */
export async function verifyAssertion(options: {
  rp: RelyingParty;
  challenge: string;
  response: AuthenticationResponse;
  credential: CredentialRecord;
}): Promise<{ newCounter: number }> {
  const result = await verifyOrFail(() =>
    verifyAuthenticationResponse({
      response: options.response,
      expectedChallenge: options.challenge,
      expectedOrigin: options.rp.origin,
      expectedRPID: options.rp.id,
      requireUserVerification: true,
      credential: {
        id: options.credential.id,
        publicKey: Buffer.from(options.credential.publicKey, "base64url"),
        counter: options.credential.counter,
        transports: options.credential.transports as AuthenticatorTransport[],
      },
    }),
  );
  if (!result.verified) {
    throw new AppError("WEBAUTHN_VERIFICATION_FAILED", "The passkey signature could not be verified.");
  }
  return { newCounter: result.authenticationInfo.newCounter };
}

/** The library throws on every mismatch; to the client that is one clear 400. */
async function verifyOrFail<T>(verify: () => Promise<T>): Promise<T> {
  try {
    return await verify();
  } catch (error) {
    throw new AppError(
      "WEBAUTHN_VERIFICATION_FAILED",
      `The passkey response was rejected: ${error instanceof Error ? error.message : "unknown reason"}`,
      { cause: error },
    );
  }
}
