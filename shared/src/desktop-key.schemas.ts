import { z } from "zod";
import { base64url } from "./webauthn.schemas.js";

/**
 * The desktop page's key (DESIGN §11): a non-extractable WebCrypto ECDSA P-256 key pair the page
 * makes when it creates a request and keeps in IndexedDB, so that a reload resumes. The server
 * gets the public half at creation and from then on wants a proof of possession to watch or
 * redeem: the desktop secret alone, copied elsewhere, does nothing.
 */
export const desktopKeySchema = z
  .object({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    // A P-256 coordinate is 32 bytes: 43 base64url characters.
    x: base64url({ max: 43 }),
    y: base64url({ max: 43 }),
  })
  .strict();
export type DesktopKey = z.infer<typeof desktopKeySchema>;

/** What a proof is for: watching the request's status, or redeeming its approval. */
export const DESKTOP_PROOF_USES = ["watch", "redeem"] as const;
export type DesktopProofUse = (typeof DESKTOP_PROOF_USES)[number];

/** The JWS `typ` of a proof, so a proof is never taken for another kind of signed object. */
export const DESKTOP_PROOF_TYP = "countersign-desktop-proof";

/** A proof's lifetime around the server's clock, in seconds: made just before it is sent. */
export const DESKTOP_PROOF_MAX_AGE_SECONDS = 60;

/**
 * A proof of possession: a compact JWS (ES256, `typ` DESKTOP_PROOF_TYP) signed with the page's
 * private key over {@link DesktopProofPayload}. Verified on the server by a JOSE library.
 */
export const desktopProofSchema = z
  .string()
  .max(1024)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "expects a compact JWS");

export interface DesktopProofPayload {
  /** The login request's id. */
  id: string;
  use: DesktopProofUse;
  /** Seconds since the epoch, on the page's clock. */
  iat: number;
}
