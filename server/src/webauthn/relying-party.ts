import { webcrypto } from "node:crypto";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { cose, decodeCredentialPublicKey } from "@simplewebauthn/server/helpers";
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
/** WebAuthn L3 §5.1 (credential id): authenticators make ids of at most 1023 bytes. */
const MAX_CREDENTIAL_ID_BYTES = 1023;
/** Smaller RSA keys are breakable; Windows Hello makes 2048-bit ones. */
const MIN_RSA_MODULUS_BITS = 2048;

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
      supportedAlgorithmIDs: ALGORITHMS,
    }),
  );
  if (!result.verified || result.registrationInfo === undefined) {
    throw new AppError("WEBAUTHN_VERIFICATION_FAILED", "The passkey could not be verified.");
  }
  const info = result.registrationInfo;
  // The library bounds neither; both are ours to refuse before anything is stored.
  const idBytes = Buffer.from(info.credential.id, "base64url").length;
  if (idBytes > MAX_CREDENTIAL_ID_BYTES) {
    throw new AppError(
      "WEBAUTHN_VERIFICATION_FAILED",
      `The passkey's credential id is ${idBytes} bytes; WebAuthn allows at most ${MAX_CREDENTIAL_ID_BYTES}.`,
    );
  }
  await ensureUsablePublicKey(info.credential.publicKey);
  return {
    credentialId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
    counter: info.credential.counter,
    transports: info.credential.transports ?? options.response.response.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
  };
}

/**
 * Refuses a COSE public key that no sign-in could ever verify. With "none" attestation nothing
 * at registration uses the key, so without this a broken one is stored and fails only at sign-in.
 * The key is imported as the library's verifiers import it (a JWK into WebCrypto), which also
 * checks that an EC point lies on its curve; only the algorithms we offer are accepted.
 */
async function ensureUsablePublicKey(publicKey: Uint8Array<ArrayBuffer>): Promise<void> {
  const refuse = (reason: string, cause?: unknown): AppError =>
    new AppError("WEBAUTHN_VERIFICATION_FAILED", `The passkey's public key is unusable: ${reason}.`, { cause });
  let key: cose.COSEPublicKey;
  try {
    key = decodeCredentialPublicKey(publicKey);
  } catch (error) {
    throw refuse("it is not a COSE key", error);
  }
  const kty = key.get(cose.COSEKEYS.kty);
  const alg = key.get(cose.COSEKEYS.alg);
  let jwk: webcrypto.JsonWebKey;
  let algorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  if (cose.isCOSEPublicKeyEC2(key) && alg === cose.COSEALG.ES256) {
    const [crv, x, y] = [key.get(cose.COSEKEYS.crv), key.get(cose.COSEKEYS.x), key.get(cose.COSEKEYS.y)];
    if (crv !== cose.COSECRV.P256) throw refuse(`ES256 needs curve P-256 (crv 1), got crv ${String(crv)}`);
    if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array)) throw refuse("the EC2 key lacks x or y");
    jwk = { kty: "EC", crv: "P-256", x: base64url(x), y: base64url(y) };
    algorithm = { name: "ECDSA", namedCurve: "P-256" };
  } else if (cose.isCOSEPublicKeyRSA(key) && alg === cose.COSEALG.RS256) {
    const [n, e] = [key.get(cose.COSEKEYS.n), key.get(cose.COSEKEYS.e)];
    if (!(n instanceof Uint8Array) || !(e instanceof Uint8Array)) throw refuse("the RSA key lacks n or e");
    jwk = { kty: "RSA", alg: "RS256", n: base64url(n), e: base64url(e) };
    algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  } else {
    throw refuse(
      `key type ${String(kty)} with algorithm ${String(alg)}; expected ES256 (EC2 P-256, alg -7) or RS256 (RSA, alg -257)`,
    );
  }
  let imported: webcrypto.CryptoKey;
  try {
    imported = await webcrypto.subtle.importKey("jwk", jwk, algorithm, false, ["verify"]);
  } catch (error) {
    throw refuse(jwk.kty === "EC" ? "the point is not on the P-256 curve" : "the RSA key cannot be imported", error);
  }
  const modulusLength = (imported.algorithm as webcrypto.RsaHashedKeyAlgorithm).modulusLength;
  if (jwk.kty === "RSA" && modulusLength < MIN_RSA_MODULUS_BITS) {
    throw refuse(`an RSA modulus of ${modulusLength} bits; at least ${MIN_RSA_MODULUS_BITS} are needed`);
  }
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
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
