import { approverLoginUrl, type QrFrame } from "@countersign/shared";
import type { QrFrameToken } from "./login-request.service.js";

/**
 * What a desktop draws for one frame: its token inside the approver link a phone camera opens.
 * Only the link is sent; the page draws the QR itself, since drawing a frame per step for every
 * watching desktop would cost the server more than the rest of the flow together.
 */
export function toQrFrame(options: { id: string; frame: QrFrameToken; publicOrigin: string }): QrFrame {
  const { id, frame } = options;
  return {
    id,
    step: frame.step,
    token: frame.token,
    url: approverLoginUrl({ origin: options.publicOrigin, id, qrToken: frame.token }),
  };
}
