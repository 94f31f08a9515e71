import jsQR from "jsqr";
import { APPROVER_BASE_PATH, parseApproverLoginFragment } from "@countersign/shared";

interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorClass = new (options: { formats: string[] }) => BarcodeDetectorLike;

/**
 * Turns what a QR code says into a sign-in link of this site: `#/r/<id>.<token>`. A code that
 * points anywhere else is refused, so a printed QR can't send the phone to a look-alike site.
 */
export function approverLinkFrom(text: string, origin: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.origin !== origin || url.pathname !== APPROVER_BASE_PATH) return null;
  return parseApproverLoginFragment(url.hash) === null ? null : url.hash;
}

/**
 * Reads QR codes from the camera until one is a sign-in link of this site. Uses the browser's
 * BarcodeDetector where it exists and jsqr on canvas frames elsewhere.
 */
export async function scanForApproverLink(options: {
  video: HTMLVideoElement;
  signal: AbortSignal;
}): Promise<string | null> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  try {
    options.video.srcObject = stream;
    await options.video.play();
    const Detector = (window as unknown as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
    const detector = Detector === undefined ? null : new Detector({ formats: ["qr_code"] });
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    while (!options.signal.aborted) {
      const texts =
        detector !== null
          ? (await detector.detect(options.video)).map((code) => code.rawValue)
          : readFrame(options.video, canvas, context);
      for (const text of texts) {
        const link = approverLinkFrom(text, window.location.origin);
        if (link !== null) return link;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    return null;
  } finally {
    for (const track of stream.getTracks()) track.stop();
    options.video.srcObject = null;
  }
}

function readFrame(
  video: HTMLVideoElement,
  canvas: HTMLCanvasElement,
  context: CanvasRenderingContext2D | null,
): string[] {
  if (context === null || video.videoWidth === 0) return [];
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  context.drawImage(video, 0, 0);
  const frame = context.getImageData(0, 0, canvas.width, canvas.height);
  const code = jsQR(frame.data, frame.width, frame.height);
  return code === null ? [] : [code.data];
}
