import { QR_STEP_MS, QR_TOKEN_BYTES } from "@countersign/shared";
import { constantTimeEqual, hmacToken } from "../tokens.js";

/**
 * The two tokens a QR sign-in hands out, both derived under the shared key and never stored, so
 * every process makes and checks the same ones:
 *
 * - a **frame**, HMAC(key, "qr-frame:" id ":" step), what the desktop's QR shows during one time
 *   step. Opening accepts the current and the previous step only, so a QR relayed to a victim
 *   (a screenshot, a forwarded link) is stale within seconds (RFC 10027's relay threat).
 * - a **capability**, HMAC(key, "capability:" id), what opening hands the phone for the steps
 *   after it (approval options, approve, deny). It does not change, so the person can take
 *   their time to decide, and it never appears in a QR.
 *
 * The prefixes keep the two apart: ids are base64url (no ":"), so no frame's message is ever a
 * capability's, and each check accepts only its own kind.
 */
export interface QrTokenSigner {
  /** The frame shown during `step`. */
  frameFor(options: { loginRequestId: string; step: number }): string;
  /** True if `token` is the frame of the step `now` falls in, or of the one before it. */
  verifyFrame(options: { loginRequestId: string; token: string; now: number }): boolean;
  capabilityFor(options: { loginRequestId: string }): string;
  verifyCapability(options: { loginRequestId: string; token: string }): boolean;
}

/** The step `now` falls in: steps start at multiples of QR_STEP_MS, the same on every process. */
export function qrStepAt(now: number): number {
  return Math.floor(now / QR_STEP_MS);
}

/** How many steps before the current one still open a request: one, for a scan made at a step's edge. */
const PREVIOUS_STEPS_ACCEPTED = 1;

export function createQrTokenSigner(options: { key: Uint8Array }): QrTokenSigner {
  if (options.key.length < 32) throw new Error("The QR token key must be at least 32 bytes.");
  const sign = (message: string): string => hmacToken({ key: options.key, message, bytes: QR_TOKEN_BYTES });
  const frameFor: QrTokenSigner["frameFor"] = ({ loginRequestId, step }) => {
    if (!Number.isSafeInteger(step)) throw new TypeError(`step must be an integer, got ${String(step)}`);
    return sign(`qr-frame:${loginRequestId}:${step}`);
  };
  const capabilityFor: QrTokenSigner["capabilityFor"] = ({ loginRequestId }) => sign(`capability:${loginRequestId}`);

  return {
    frameFor,
    verifyFrame({ loginRequestId, token, now }) {
      const current = qrStepAt(now);
      let matched = false;
      // Every candidate is compared (no early return): the time taken says nothing of which matched.
      for (let back = 0; back <= PREVIOUS_STEPS_ACCEPTED; back += 1) {
        if (constantTimeEqual(frameFor({ loginRequestId, step: current - back }), token)) matched = true;
      }
      return matched;
    },
    capabilityFor,
    verifyCapability: ({ loginRequestId, token }) => constantTimeEqual(capabilityFor({ loginRequestId }), token),
  };
}
