import {
  DESKTOP_PROOF_MAX_AGE_SECONDS,
  DESKTOP_PROOF_TYP,
  type DesktopKey,
  type DesktopProofUse,
} from "@countersign/shared";
import { compactVerify, importJWK, type CryptoKey } from "jose";
import { createBoundedCache } from "../bounded-cache.js";

/**
 * Imported page keys, by their coordinates (which are the whole public key): a page proves
 * itself to watch and again to redeem, and importing (with its on-curve check) costs as much as
 * verifying. Only keys that imported are kept. A few thousand pages' keys are a few hundred KB.
 */
const importedKeys = createBoundedCache<string, CryptoKey>({ capacity: 4096 });

async function importDesktopKey(key: DesktopKey): Promise<CryptoKey> {
  const id = `${key.x}.${key.y}`;
  const cached = importedKeys.get(id);
  if (cached !== undefined) return cached;
  const imported = (await importJWK({ ...key }, "ES256")) as CryptoKey;
  importedKeys.set(id, imported);
  return imported;
}

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
    const key = await importDesktopKey(options.key);
    const { payload, protectedHeader } = await compactVerify(options.proof, key, { algorithms: ["ES256"] });
    if (protectedHeader.typ !== DESKTOP_PROOF_TYP) return false;
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.id !== options.id || claims.use !== options.use || typeof claims.iat !== "number") return false;
    return Math.abs(options.now / 1000 - claims.iat) <= DESKTOP_PROOF_MAX_AGE_SECONDS;
  } catch {
    return false;
  }
}
