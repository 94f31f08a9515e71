import { QR_TOKEN_BYTES } from "@countersign/shared";
import { constantTimeEqual, hmacToken } from "../tokens.js";

/**
 * The QR token is derived, not stored: HMAC(server key, id ‖ time step). Today the step is
 * always 0 (a static QR); an animated QR (DESIGN §10) only has to start passing real steps.
 */
export interface QrTokenSigner {
  tokenFor(options: { loginRequestId: string; step?: number }): string;
  verify(options: { loginRequestId: string; token: string; step?: number }): boolean;
}

export function createQrTokenSigner(options: { key: Uint8Array }): QrTokenSigner {
  if (options.key.length < 32) throw new Error("The QR token key must be at least 32 bytes.");
  const tokenFor: QrTokenSigner["tokenFor"] = ({ loginRequestId, step = 0 }) =>
    hmacToken({ key: options.key, message: `qr:${loginRequestId}:${step}`, bytes: QR_TOKEN_BYTES });
  return {
    tokenFor,
    verify: ({ loginRequestId, token, step = 0 }) => constantTimeEqual(tokenFor({ loginRequestId, step }), token),
  };
}
