import { CompactSign } from "jose";
import {
  DESKTOP_PROOF_TYP,
  type DesktopKey,
  type DesktopProofPayload,
  type DesktopProofUse,
} from "@countersign/shared";

/** Why this page could not make or use its key; the browser's own error is the cause. */
export class DesktopKeyError extends Error {
  readonly code = "DESKTOP_KEY_UNAVAILABLE";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DesktopKeyError";
  }
}

const ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

/**
 * A new key pair for one request (desktop-key.schemas.ts), and its public half as the server takes
 * it at creation. The private half cannot be exported: it never leaves this browser, so a desktop
 * secret copied elsewhere proves nothing on its own.
 */
export async function generateDesktopKeys(): Promise<{ keys: CryptoKeyPair; desktopKey: DesktopKey }> {
  // Missing outside a secure context (plain http on a host other than localhost).
  if (globalThis.crypto?.subtle === undefined) {
    throw new DesktopKeyError("WebCrypto is not available here: expected a secure (https) page.");
  }
  let keys: CryptoKeyPair;
  let jwk: JsonWebKey;
  try {
    keys = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
    // A public key stays exportable whatever `extractable` says: that applies to the private one.
    jwk = await crypto.subtle.exportKey("jwk", keys.publicKey);
  } catch (error) {
    throw new DesktopKeyError("This browser could not make an ECDSA P-256 key pair.", { cause: error });
  }
  return { keys, desktopKey: desktopKeyOf(jwk) };
}

/**
 * A JWK reduced to the four members the server's strict schema allows: WebCrypto adds `ext` and
 * `key_ops`, and a private JWK's `d` must never be sent.
 */
export function desktopKeyOf(jwk: JsonWebKey): DesktopKey {
  const { kty, crv, x, y } = jwk;
  if (kty !== "EC" || crv !== "P-256" || typeof x !== "string" || typeof y !== "string") {
    throw new DesktopKeyError(
      `Expected an EC P-256 JWK with x and y, received kty ${String(kty)}, crv ${String(crv)}` +
        `${typeof x === "string" && typeof y === "string" ? "" : ", without both coordinates"}.`,
    );
  }
  return { kty, crv, x, y };
}

/**
 * A proof of possession for one request and one use: a compact JWS (ES256) over
 * {@link DesktopProofPayload}. Make a fresh one for every watch and redeem: the server takes a
 * proof only within DESKTOP_PROOF_MAX_AGE_SECONDS of its `iat`.
 */
export function signDesktopProof(options: {
  privateKey: CryptoKey;
  /** The login request's id. */
  id: string;
  use: DesktopProofUse;
  /** The time now, in ms (Date.now() in the page). */
  now: number;
}): Promise<string> {
  const payload: DesktopProofPayload = { id: options.id, use: options.use, iat: Math.floor(options.now / 1000) };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "ES256", typ: DESKTOP_PROOF_TYP })
    .sign(options.privateKey);
}
