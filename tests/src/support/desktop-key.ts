import { webcrypto } from "node:crypto";

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;
import { CompactSign } from "jose";
import { DESKTOP_PROOF_TYP, type DesktopKey, type DesktopProofUse } from "@countersign/shared";

/**
 * What the desktop page does with its key (DESIGN §11), for the tests' browser stand-ins: a
 * non-extractable P-256 key pair per request, its public half sent at creation, and a fresh
 * proof (a JWS made with jose, as the page makes it) for every watch and redeem. HttpClient and
 * DesktopSocket use these on their own, as a browser would, unless a test passes its own.
 */

const keysByLogin = new Map<string, CryptoKeyPair>();
/** In-process test servers run on a fake clock: proofs must be made on that clock's time. */
const clocksByOrigin = new Map<string, () => number>();

export function useClockForProofs(origin: string, now: () => number): void {
  clocksByOrigin.set(origin, now);
}

export async function newDesktopKey(): Promise<{ pair: CryptoKeyPair; publicKey: DesktopKey }> {
  const pair = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const { kty, crv, x, y } = await webcrypto.subtle.exportKey("jwk", pair.publicKey);
  return { pair, publicKey: { kty: kty as "EC", crv: crv as "P-256", x: x!, y: y! } };
}

export function rememberDesktopKey(loginId: string, pair: CryptoKeyPair): void {
  keysByLogin.set(loginId, pair);
}

/** A proof made with `privateKey`, or with the key remembered for the request. */
export async function desktopProof(options: {
  origin: string;
  id: string;
  use: DesktopProofUse;
  privateKey?: CryptoKey;
  /** Seconds to add to the proof's time (a stale proof is a test's business). */
  skewSeconds?: number;
}): Promise<string> {
  // A request this page did not make (a test's unknown id) gets a proof of some other key, as
  // another page's would be: the server must tell nothing from it.
  const privateKey =
    options.privateKey ?? keysByLogin.get(options.id)?.privateKey ?? (await newDesktopKey()).pair.privateKey;
  const now = clocksByOrigin.get(options.origin)?.() ?? Date.now();
  const payload = { id: options.id, use: options.use, iat: Math.floor(now / 1000) + (options.skewSeconds ?? 0) };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "ES256", typ: DESKTOP_PROOF_TYP })
    .sign(privateKey);
}

const CREATE_PATH = /^\/(?:api|interaction\/[^/]+)\/(?:push-)?logins$/;
const REDEEM_PATH = /^\/api\/logins\/([^/]+)\/redeem$/;

/** The body a browser page would send: a key added at creation, a proof added at redeem. */
export async function asThePageSendsIt(options: {
  origin: string;
  method: string;
  path: string;
  json: unknown;
}): Promise<{ json: unknown; created: CryptoKeyPair | null }> {
  const { json } = options;
  const pathname = new URL(options.path, options.origin).pathname;
  if (options.method !== "POST" || typeof json !== "object" || json === null || Array.isArray(json)) {
    return { json, created: null };
  }
  if (CREATE_PATH.test(pathname) && !("desktopKey" in json)) {
    const { pair, publicKey } = await newDesktopKey();
    return { json: { ...json, desktopKey: publicKey }, created: pair };
  }
  const redeem = REDEEM_PATH.exec(pathname);
  if (redeem !== null && !("proof" in json)) {
    const proof = await desktopProof({ origin: options.origin, id: decodeURIComponent(redeem[1]!), use: "redeem" });
    return { json: { ...json, proof }, created: null };
  }
  return { json, created: null };
}
