import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import type { FakeClock } from "@countersign/server/testing";
import {
  addVirtualAuthenticator,
  chromiumAvailable,
  decodeQr,
  DESKTOP_CONTEXT,
  launchChromium,
  PHONE_CONTEXT,
  snapshot,
} from "../src/support/browser.js";
import { API_PATHS, parseApproverLoginFragment, QR_STEP_MS } from "@countersign/shared";
import { HttpClient, PHONE_UA } from "../src/support/http-client.js";
import { freePort, startServerProcess, type ServerProcess } from "../src/support/server-process.js";
import { startTestServer, type TestServer } from "../src/support/test-server.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The built front ends, which an in-process test server serves as main.ts does. */
const APPS = { webDist: path.join(REPO_ROOT, "web/dist"), approverDist: path.join(REPO_ROOT, "approver/dist") };

let server: ServerProcess;
/** localhost, not 127.0.0.1: a WebAuthn RP ID must be a domain name. */
let origin: string;
let browser: Browser;
let contexts: BrowserContext[] = [];
/** Anything the browser refused under the server's Content-Security-Policy. */
let cspViolations: string[] = [];

/**
 * A page in a fresh context: a phone or a desktop of its own. `authenticator` gives it a
 * virtual passkey authenticator; `clock` pins its Date to that fake clock's time (its timers
 * still run), so the page and an in-process server agree on the time.
 */
async function openPage(
  options: BrowserContextOptions,
  extras: { authenticator?: boolean; clock?: FakeClock } = {},
): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  if (extras.clock !== undefined) await context.clock.setFixedTime(extras.clock.now());
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) cspViolations.push(message.text());
  });
  if (extras.authenticator === true) await addVirtualAuthenticator(context, page);
  return page;
}

async function enrolledPhone(
  username: string,
  displayName: string,
  where: { at?: string; clock?: FakeClock } = {},
): Promise<Page> {
  const phone = await openPage(PHONE_CONTEXT, { authenticator: true, clock: where.clock });
  await phone.goto(`${where.at ?? origin}/approve/`);
  await phone.getByLabel("Username").waitFor();
  await snapshot(phone, "phone-enrol");
  await phone.getByLabel("Username").fill(username);
  await phone.getByLabel("Your name").fill(displayName);
  await phone.getByRole("button", { name: "Create passkey" }).click();
  await phone.getByText(`Signed in as ${displayName}`).waitFor();
  return phone;
}

/**
 * The key pairs the page keeps in IndexedDB, whichever database and store hold them: for each, the
 * request id, its public key's x coordinate, and whether its private key could be exported.
 * Evaluated in the page, where indexedDB exists (this workspace's types are Node's).
 */
function storedDesktopKeys(page: Page): Promise<{ id: string; x: string; privateExtractable: boolean }[]> {
  return page.evaluate(`(async () => {
    const settled = (request) => new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const found = [];
    for (const { name } of await indexedDB.databases()) {
      const database = await settled(indexedDB.open(name));
      for (const store of database.objectStoreNames) {
        for (const record of await settled(database.transaction(store).objectStore(store).getAll())) {
          if (!(record?.keys?.publicKey instanceof CryptoKey)) continue;
          const { x } = await crypto.subtle.exportKey("jwk", record.keys.publicKey);
          found.push({ id: record.id, x, privateExtractable: record.keys.privateKey.extractable });
        }
      }
      database.close();
    }
    return found;
  })()`);
}

describe.skipIf(!chromiumAvailable())("QR sign-in in a real browser", () => {
  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    server = await startServerProcess({ port, env: { PUBLIC_ORIGIN: origin } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
    await server?.exited;
  });

  beforeEach(() => {
    contexts = [];
    cspViolations = [];
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    expect(cspViolations).toEqual([]);
  });

  it("enrols the phone, scans the desktop's QR, approves, and the desktop signs in without a reload", async () => {
    const phone = await enrolledPhone("ana", "Ana Silva");
    await snapshot(phone, "phone-enrolled");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    const qr = desktop.getByRole("img", { name: /QR code/ });
    await qr.waitFor();
    await snapshot(desktop, "desktop-qr");

    const url = await decodeQr(qr);
    expect(url).toMatch(new RegExp(`^${origin}/approve/#/r/[\\w-]+\\.[\\w-]+$`));
    await phone.goto(url);
    await phone.getByRole("heading", { name: "Sign in on a computer?" }).waitFor();
    await phone.getByText("Only approve if you are signing in on a computer yourself right now.").waitFor();
    await desktop.getByText(/Opened on Pixel 8 · Chrome/).waitFor();
    await snapshot(phone, "phone-review");
    await snapshot(desktop, "desktop-opened");

    await phone.getByRole("button", { name: "Approve" }).click();
    await phone.getByText("You can return to your computer").waitFor();
    await snapshot(phone, "phone-approved");
    await desktop.getByRole("heading", { name: "Signed in as Ana Silva" }).waitFor();
    await snapshot(desktop, "desktop-signed-in");

    await desktop.getByRole("button", { name: "Sign out" }).click();
    await desktop.getByRole("img", { name: /QR code/ }).waitFor();
  });

  it("shows a denial on the desktop live", async () => {
    const phone = await enrolledPhone("bea", "Bea");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    const qr = desktop.getByRole("img", { name: /QR code/ });
    await phone.goto(await decodeQr(qr));
    await phone.getByRole("button", { name: "This wasn't me" }).click();
    await phone.getByText("Denied. Nobody was signed in.").waitFor();
    await snapshot(phone, "phone-denied");
    await desktop.getByText(/Denied on your phone/).waitFor();
    await snapshot(desktop, "desktop-denied");
  });

  it("takes the code typed on the phone instead of a scan", async () => {
    const phone = await enrolledPhone("cai", "Cai");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    const code = await desktop.locator(".code").innerText();
    await phone.getByLabel("Code shown on the computer").fill(code.toLowerCase());
    await phone.getByRole("button", { name: "Continue" }).click();
    await phone.getByRole("button", { name: "Approve" }).click();
    await desktop.getByRole("heading", { name: "Signed in as Cai" }).waitFor();
  });

  it("a reload mid-flow resumes with the stored key and completes", async () => {
    const phone = await enrolledPhone("dee", "Dee");
    const desktop = await openPage(DESKTOP_CONTEXT);
    // A page that lost its key could not watch its request again (the server wants a proof made
    // with it), so it would have to create a second one.
    const creations: string[] = [];
    desktop.on("request", (request) => {
      if (request.method() === "POST" && new URL(request.url()).pathname === API_PATHS.logins) {
        creations.push(request.url());
      }
    });
    await desktop.goto(origin);
    const qr = desktop.getByRole("img", { name: /QR code/ });
    const url = await decodeQr(qr);
    const id = parseApproverLoginFragment(new URL(url).hash)?.id;
    // Kept for this request, its private half still not exportable once stored.
    await expect.poll(async () => (await storedDesktopKeys(desktop)).map((key) => key.id)).toEqual([id]);
    const [stored] = await storedDesktopKeys(desktop);
    expect(stored?.privateExtractable).toBe(false);
    await phone.goto(url);
    await desktop.getByText(/Opened on Pixel 8/).waitFor();

    await desktop.reload();
    // The same request, in the state it reached (its QR at a later frame), watched with the same key.
    await desktop.getByText(/Opened on Pixel 8/).waitFor();
    const resumed = await decodeQr(desktop.getByRole("img", { name: /QR code/ }));
    expect(parseApproverLoginFragment(new URL(resumed).hash)?.id).toBe(id);
    expect(await storedDesktopKeys(desktop)).toEqual([stored]);
    expect(creations).toHaveLength(1);

    // The approval lands, and is redeemed with a proof from that key, which is then deleted.
    await phone.getByRole("button", { name: "Approve" }).click();
    await desktop.getByRole("heading", { name: "Signed in as Dee" }).waitFor();
    expect(creations).toHaveLength(1);
    await expect.poll(async () => storedDesktopKeys(desktop)).toEqual([]);
    // A reload once signed in stays signed in.
    await desktop.reload();
    await desktop.getByRole("heading", { name: "Signed in as Dee" }).waitFor();
  });

  it("signs the desktop in directly with a passkey it holds (its own, hybrid, or a security key)", async () => {
    const desktop = await openPage(DESKTOP_CONTEXT, { authenticator: true });
    // Enrol from the desktop's own context, so its virtual authenticator holds the passkey.
    await desktop.goto(`${origin}/approve/`);
    await desktop.getByLabel("Username").fill("eve");
    await desktop.getByLabel("Your name").fill("Eve");
    await desktop.getByRole("button", { name: "Create passkey" }).click();
    await desktop.getByText("Signed in as Eve").waitFor();
    await desktop.goto(origin);
    await desktop.getByRole("button", { name: "Sign in with a passkey on this device or a security key" }).click();
    await desktop.getByRole("heading", { name: "Signed in as Eve" }).waitFor();
    await desktop.getByText("a passkey on this device").waitFor();
  });

  it("installs the approver as an app: a manifest with icons and a service worker", async () => {
    const phone = await openPage(PHONE_CONTEXT);
    await phone.goto(`${origin}/approve/`);
    const manifestHref = await phone.locator('link[rel="manifest"]').getAttribute("href");
    const manifest = (await (await fetch(new URL(manifestHref!, origin))).json()) as {
      start_url: string;
      display: string;
      icons: { sizes: string }[];
    };
    expect(manifest).toMatchObject({ start_url: "/approve/", display: "standalone" });
    expect(manifest.icons.map((icon) => icon.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
    // Runs in the page, where navigator exists (this workspace's types are Node's).
    const scope = await phone.evaluate<string>(
      "navigator.serviceWorker.ready.then((registration) => registration.scope)",
    );
    expect(scope).toBe(`${origin}/approve/`);
  });

  it("offers the passkey first when the sign-in page is opened on a phone", async () => {
    const phone = await openPage(PHONE_CONTEXT);
    await phone.goto(origin);
    await phone.getByRole("heading", { name: "Sign in with a passkey" }).waitFor();
    expect(await phone.getByRole("img", { name: /QR code/ }).count()).toBe(0);
    await snapshot(phone, "phone-sign-in-page");
    await phone.getByRole("button", { name: "Use a QR code instead" }).click();
    await phone.getByRole("img", { name: /QR code/ }).waitFor();
  });

  it("signs a desktop page out live when the phone revokes its session", async () => {
    const phone = await enrolledPhone("hal", "Hal");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    await phone.goto(await decodeQr(desktop.getByRole("img", { name: /QR code/ })));
    await phone.getByRole("button", { name: "Approve" }).click();
    await desktop.getByRole("heading", { name: "Signed in as Hal" }).waitFor();

    await phone.goto(`${origin}/approve/`);
    const devices = phone.getByRole("region", { name: "Signed-in devices" });
    await devices.getByText("Linux · Chrome").waitFor();
    await phone.getByRole("heading", { name: "Activity" }).waitFor();
    await snapshot(phone, "phone-account");
    await devices.getByRole("button", { name: "Sign out" }).click();
    // The desktop page returns to the sign-in screen by itself, without a reload.
    await desktop.getByRole("img", { name: /QR code/ }).waitFor();
    expect(await desktop.getByRole("heading", { name: "Signed in as Hal" }).count()).toBe(0);
    await devices.getByText("Linux · Chrome").waitFor({ state: "detached" });
  });

  it("adds a second phone to the account with the one-time code the first phone shows", async () => {
    const first = await enrolledPhone("ida", "Ida");
    await first.getByRole("button", { name: "Show a code for another phone" }).click();
    const link = await decodeQr(first.getByRole("img", { name: "QR code to add another phone to your account" }));
    await snapshot(first, "phone-second-phone-code");
    const second = await openPage(PHONE_CONTEXT, { authenticator: true });
    await second.goto(link);
    await second.getByRole("button", { name: "Create a passkey on this phone" }).click();
    await second.getByText("Signed in as Ida").waitFor();
    // Both phones are now listed among Ida's devices.
    await expect
      .poll(async () => second.getByRole("region", { name: "Signed-in devices" }).getByText("This phone").count())
      .toBe(1);
    await second.getByRole("region", { name: "Signed-in devices" }).getByRole("button", { name: "Sign out" }).waitFor();
  });

  it("push: the desktop sends the request to the phone, which picks the number and approves", async () => {
    const phone = await enrolledPhone("jo", "Jo");
    const desktop = await openPage(DESKTOP_CONTEXT);
    await desktop.goto(origin);
    await desktop.getByLabel("Username").fill("jo");
    await desktop.getByRole("button", { name: "Send to my phone" }).click();
    const number = desktop.getByLabel(/^number \d\d$/);
    const matchNumber = (await number.innerText()).trim();
    await snapshot(desktop, "desktop-push");

    // The request appears on the phone by itself, without a reload.
    const card = phone.getByRole("article", { name: "Sign in on a computer?" });
    await card.waitFor();
    await snapshot(phone, "phone-push");
    await card.getByRole("button", { name: matchNumber, exact: true }).click();
    await desktop.getByText(/Opened on Pixel 8/).waitFor();
    await card.getByRole("button", { name: "Approve" }).click();
    await phone.getByText("Approved. You can return to your computer.").waitFor();
    // Decided here, so it leaves the inbox (as it does on the person's other phones).
    await card.waitFor({ state: "detached" });
    await desktop.getByRole("heading", { name: "Signed in as Jo" }).waitFor();
  });

  it("fits a 320 px wide screen without sideways scrolling, on both apps", async () => {
    const narrow = await openPage({ ...PHONE_CONTEXT, viewport: { width: 320, height: 640 } });
    for (const path of ["/", "/approve/"]) {
      await narrow.goto(`${origin}${path}`);
      await narrow.getByRole("heading", { name: "Countersign" }).waitFor();
      await narrow.getByRole("button").first().waitFor();
      expect(await narrow.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(320);
    }
  });
});

describe.skipIf(!chromiumAvailable())("an expiring request in a real browser", () => {
  /** Short enough that the pages' clocks never jump past Socket.IO's ping timeout (45 s). */
  const TTL_SECONDS = 10;
  // In process, with a fake clock the test moves: expiry without waiting for it.
  let clocked: TestServer;

  beforeAll(async () => {
    clocked = await startTestServer({ apps: APPS, env: { LOGIN_TTL_SECONDS: String(TTL_SECONDS) } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await clocked?.close();
  });

  /** Sets the page's Date to the server's time, where a real browser's clock would be. */
  async function catchUp(page: Page): Promise<void> {
    await page.context().clock.setFixedTime(clocked.clock.now());
  }

  it("counts down on the server's time, shows expired, and the new QR it offers works", async () => {
    contexts = [];
    try {
      const desktop = await openPage(DESKTOP_CONTEXT, { clock: clocked.clock });
      await desktop.goto(clocked.origin);
      const first = await decodeQr(desktop.getByRole("img", { name: /QR code/ }));
      await desktop.getByText(`Expires in ${TTL_SECONDS} s`).waitFor();
      clocked.clock.advance(4_000);
      await catchUp(desktop);
      await desktop.getByText(`Expires in ${TTL_SECONDS - 4} s`).waitFor();
      expect(await desktop.getByText("Waiting for your phone…").count()).toBe(1);

      // Expiry is the server's to decide (the page's clock is still short of it): the server's
      // timer fires, and the page hears it on its socket.
      clocked.clock.advance((TTL_SECONDS - 4) * 1000);
      await desktop.getByText("This code expired.").waitFor();
      await snapshot(desktop, "desktop-expired");
      expect(await desktop.getByRole("img", { name: /QR code/ }).count()).toBe(0);
      expect(await desktop.locator(".countdown").count()).toBe(0);
      await catchUp(desktop);

      await desktop.getByRole("button", { name: "Get a new code" }).click();
      const second = await decodeQr(desktop.getByRole("img", { name: /QR code/ }));
      expect(second).not.toBe(first);
      await desktop.getByText(`Expires in ${TTL_SECONDS} s`).waitFor();
      const phone = await enrolledPhone("fay", "Fay", { at: clocked.origin, clock: clocked.clock });
      await phone.goto(second);
      await phone.getByRole("button", { name: "Approve" }).click();
      await desktop.getByRole("heading", { name: "Signed in as Fay" }).waitFor();
    } finally {
      for (const context of contexts) await context.close();
    }
  });
});

describe.skipIf(!chromiumAvailable())("a QR that changes, in a real browser", () => {
  // In process, with a fake clock the test moves: one frame per step, when the test says so.
  let clocked: TestServer;

  beforeAll(async () => {
    clocked = await startTestServer({ apps: APPS });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await clocked?.close();
  });

  beforeEach(() => {
    contexts = [];
    cspViolations = [];
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    expect(cspViolations).toEqual([]);
  });

  const phoneApi = (): HttpClient => new HttpClient(clocked.origin, { userAgent: PHONE_UA });
  const linkOf = (url: string) => parseApproverLoginFragment(new URL(url).hash)!;
  /** How the QR's newest frame comes in (run in the page, where getComputedStyle exists). */
  const animationOf = (page: Page): Promise<string> =>
    page.evaluate<string>('getComputedStyle(document.querySelector(".qr-layer:last-child")).animationName');

  it("draws a new frame every step in the same place, and each frame read from the screen opens the request while current", async () => {
    const desktop = await openPage(DESKTOP_CONTEXT, { clock: clocked.clock });
    await desktop.goto(clocked.origin);
    const qr = desktop.getByRole("img", { name: /QR code/ });
    const frames = [await decodeQr(qr)];
    const box = await desktop.locator(".qr").boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(await animationOf(desktop)).toBe("qr-fade-in");

    for (let round = 0; round < 3; round += 1) {
      clocked.clock.advance(QR_STEP_MS);
      const frame = await decodeQr(qr, { otherThan: frames.at(-1) });
      frames.push(frame);
      // No layout shift: the new frame is drawn in the same box, at the same size.
      expect(await desktop.locator(".qr").boundingBox()).toEqual(box);
      const opened = await phoneApi().post(API_PATHS.approvalsOpen, linkOf(frame));
      expect(opened.status, `frame ${round + 1}`).toBe(200);
    }
    await snapshot(desktop, "desktop-qr-later-frame");
    expect(new Set(frames).size).toBe(4);
    expect(new Set(frames.map((frame) => linkOf(frame).id)).size).toBe(1);
    // The first frame is three steps old now: a relayed screenshot of it opens nothing.
    const stale = await phoneApi().post(API_PATHS.approvalsOpen, linkOf(frames[0]!));
    expect(stale.status).toBe(404);

    // And a phone that scans the frame on screen signs the desktop in.
    const phone = await enrolledPhone("kit", "Kit", { at: clocked.origin, clock: clocked.clock });
    await phone.goto(frames.at(-1)!);
    await phone.getByRole("button", { name: "Approve" }).click();
    await desktop.getByRole("heading", { name: "Signed in as Kit" }).waitFor();
  });

  it("with reduced motion, swaps each frame at once instead of fading it in, and still changes", async () => {
    const desktop = await openPage({ ...DESKTOP_CONTEXT, reducedMotion: "reduce" }, { clock: clocked.clock });
    await desktop.goto(clocked.origin);
    const qr = desktop.getByRole("img", { name: /QR code/ });
    const first = await decodeQr(qr);
    expect(await animationOf(desktop)).toBe("none");
    clocked.clock.advance(QR_STEP_MS);
    const second = await decodeQr(qr, { otherThan: first });
    expect(linkOf(second).id).toBe(linkOf(first).id);
    expect((await phoneApi().post(API_PATHS.approvalsOpen, linkOf(second))).status).toBe(200);
  });
});

const redisUrl = inject("redisUrl");

describe.skipIf(!chromiumAvailable() || redisUrl === null)("a desktop page whose server restarts", () => {
  it("shows Reconnecting…, then resynchronises without a reload and completes", async () => {
    const port = await freePort();
    const restartOrigin = `http://localhost:${port}`;
    // Redis keeps the request across the restart, as it would behind a load balancer.
    const env = { PUBLIC_ORIGIN: restartOrigin, REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `e2e-${port}:` };
    let server = await startServerProcess({ port, env });
    browser = await launchChromium();
    contexts = [];
    try {
      const phone = await enrolledPhone("gus", "Gus", { at: restartOrigin });
      const desktop = await openPage(DESKTOP_CONTEXT);
      await desktop.goto(restartOrigin);
      const url = await decodeQr(desktop.getByRole("img", { name: /QR code/ }));

      server.kill("SIGKILL");
      await server.exited;
      await desktop.getByText("Reconnecting…").waitFor();
      await snapshot(desktop, "desktop-reconnecting");
      // Cut off, it gets no new frames: the stale QR is not offered for scanning.
      expect(await desktop.getByRole("img", { name: /QR code: scan/ }).count()).toBe(0);
      // While the desktop is cut off, the phone opens the request through another process, by
      // the typed code: the QR on a cut-off page gets no new frames and is stale within seconds.
      const userCode = await desktop.locator(".code").innerText();
      const other = await startServerProcess({ env });
      try {
        const opened = await new HttpClient(other.url, { userAgent: PHONE_UA, origin: restartOrigin }).post(
          API_PATHS.approvalsOpen,
          { userCode },
        );
        expect(opened.status).toBe(200);
      } finally {
        other.kill("SIGTERM");
        await other.exited;
      }
      // Only the resynchronising watch can tell the desktop what happened meanwhile.
      server = await startServerProcess({ port, env });
      await desktop.getByText(/Opened on Pixel 8/).waitFor({ timeout: 15_000 });
      expect(await desktop.getByText("Reconnecting…").count()).toBe(0);
      // The frame read before the restart is stale by now: the phone scans the one shown now.
      await phone.goto(await decodeQr(desktop.getByRole("img", { name: /QR code/ }), { otherThan: url }));
      await phone.getByRole("button", { name: "Approve" }).click();
      await desktop.getByRole("heading", { name: "Signed in as Gus" }).waitFor();
    } finally {
      for (const context of contexts) await context.close();
      await browser.close();
      server.kill("SIGTERM");
      await server.exited;
    }
  });
});
