import { webcrypto, type webcrypto as WebCrypto } from "node:crypto";
import { DESKTOP_PROOF_TYP, type DesktopKey, type DesktopProofUse } from "@countersign/shared";
import { CompactSign } from "jose";

/** The desktop page's key for unit tests: one pair, made once, as a page makes its own (DESIGN §11). */
const pair = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
  "sign",
  "verify",
])) as WebCrypto.CryptoKeyPair;
const { kty, crv, x, y } = await webcrypto.subtle.exportKey("jwk", pair.publicKey);

export const DESKTOP_KEY: DesktopKey = { kty: kty as "EC", crv: crv as "P-256", x: x!, y: y! };

/** The clock of the services a test made last (test-services.ts): proofs are made on its time. */
let currentClock: (() => number) | null = null;

export function useClockForProofs(now: () => number): void {
  currentClock = now;
}

/** A proof of DESKTOP_KEY's private half for `id` and `use`, made now (or at `now`, in ms). */
export async function desktopProof(options: {
  id: string;
  use: DesktopProofUse;
  now?: number;
  privateKey?: WebCrypto.CryptoKey;
}): Promise<string> {
  const now = options.now ?? currentClock?.() ?? Date.now();
  const payload = { id: options.id, use: options.use, iat: Math.floor(now / 1000) };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "ES256", typ: DESKTOP_PROOF_TYP })
    .sign(options.privateKey ?? pair.privateKey);
}
