import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import jsQRModule from "jsqr";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { PNG } from "pngjs";
import { isCi } from "./ci.js";

// jsqr is a CommonJS bundle: depending on the loader, its default import is the decoder itself
// or a namespace holding it.
type JsQr = typeof jsQRModule.default;
const jsQR: JsQr = (jsQRModule as unknown as { default?: JsQr }).default ?? (jsQRModule as unknown as JsQr);

/** Debian's Chromium; never a browser a tool downloads for itself. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const ARTIFACTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../artifacts");

/**
 * Whether browser tests can run. Under CI (see isCi) a missing Chromium is a failure; elsewhere
 * the suite is skipped, loudly, with the command that installs it.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `Chromium not found at ${CHROMIUM_PATH}: install it with "apt-get update && apt-get install -y chromium" (or set CHROMIUM_PATH).`;
  if (isCi()) throw new Error(`${message} CI must run the browser tests.`);
  process.stderr.write(`\n*** SKIPPING browser end-to-end tests. ${message}\n\n`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const PHONE_CONTEXT = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
} as const;

export const DESKTOP_CONTEXT = { viewport: { width: 1280, height: 800 } } as const;

/**
 * A platform authenticator with user verification for this context's pages, through CDP: a
 * real WebAuthn ceremony in the browser, with its own passkey store per context.
 */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

/**
 * Reads the QR code the way a phone camera would: from pixels on the screen, looking again until
 * one reads (the sign-in QR changes every few seconds, and a frame caught mid-fade may not) and,
 * given `otherThan`, until it shows something else: the next frame.
 */
export async function decodeQr(
  element: Locator,
  options: { otherThan?: string; timeoutMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  for (;;) {
    const png = PNG.sync.read(await element.screenshot());
    const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    if (code !== null && code.data !== options.otherThan) return code.data;
    if (Date.now() > deadline) {
      throw new Error(
        code === null ? "no QR code could be read from the element" : `the QR code still reads ${code.data}`,
      );
    }
    // A camera's next look: once the page has drawn its next frame, not after a fixed time.
    await element.page().evaluate("new Promise((resolve) => requestAnimationFrame(() => resolve(null)))");
  }
}

/** Saves a screenshot of the page under tests/artifacts (git-ignored) for people to look at. */
export async function snapshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}
