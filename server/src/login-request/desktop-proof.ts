import {
  DESKTOP_PROOF_MAX_AGE_SECONDS,
  DESKTOP_PROOF_TYP,
  type DesktopKey,
  type DesktopProofUse,
} from "@countersign/shared";
import { compactVerify, importJWK } from "jose";

/**
 * Whether `proof` shows possession of the desktop page's key (DESIGN §11): a compact JWS made with
 * its private key, for this request and this use, made within DESKTOP_PROOF_MAX_AGE_SECONDS of
 * `now` either way. jose checks the signature; this checks what it says. Never throws: a bad proof
 * is just not a proof, and the caller answers it like a wrong secret.
 */
export async function verifyDesktopProof(options: {
  proof: string;
  key: DesktopKey;
  id: string;
  use: DesktopProofUse;
  /** The injected clock's time, in ms. */
  now: number;
}): Promise<boolean> {
  try {
    const key = await importJWK({ ...options.key }, "ES256");
    const { payload, protectedHeader } = await compactVerify(options.proof, key, { algorithms: ["ES256"] });
    if (protectedHeader.typ !== DESKTOP_PROOF_TYP) return false;
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.id !== options.id || claims.use !== options.use || typeof claims.iat !== "number") return false;
    return Math.abs(options.now / 1000 - claims.iat) <= DESKTOP_PROOF_MAX_AGE_SECONDS;
  } catch {
    return false;
  }
}
