import QRCode from "qrcode";

/** An SVG QR code for `url`; medium error correction survives a glare on a laptop screen. */
export async function renderQrSvg(url: string): Promise<string> {
  return QRCode.toString(url, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}
