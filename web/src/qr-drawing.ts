import QRCode, { type QRCodeSegment } from "qrcode";

/**
 * One way to draw every frame of the sign-in QR. Medium error correction survives a glare on a
 * laptop screen; the margin is the quiet zone a camera needs.
 */
export const QR_OPTIONS = { errorCorrectionLevel: "M", margin: 2 } as const;

/**
 * The whole link as one byte-mode segment. Every frame's link has the same length, so every frame
 * gets the same version (grid size): only the modules change, never the grid. (Left to itself
 * the encoder would pick shorter modes for runs of digits, and a frame could change size.)
 */
export function qrSegmentsOf(url: string): QRCodeSegment[] {
  return [{ data: new TextEncoder().encode(url), mode: "byte" }];
}

/** An SVG data: URL of the QR for `url` (the CSP allows data: images, not inline markup). */
export async function drawQr(url: string): Promise<string> {
  const svg = await QRCode.toString(qrSegmentsOf(url), { ...QR_OPTIONS, type: "svg" });
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}
