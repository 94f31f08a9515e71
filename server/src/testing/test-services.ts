import { REDEEM_WINDOW_MS } from "@countersign/shared";
import { loadConfig, type Config } from "../config.js";
import { LOCATE_NOWHERE, type GeoLocator } from "../context/geo.js";
import type { LoginRequestChanged } from "../login-request/login-request.events.js";
import { createQrTokenSigner } from "../login-request/qr-token.js";
import type { PushRequested } from "../push-login/push-login.service.js";
import { cryptoRandom } from "../random.js";
import { rateLimitPolicies } from "../rate-limit/rate-limits.js";
import { createMemoryRateLimits } from "../rate-limit/rate-limits.memory.js";
import { createServices, type Services } from "../services.js";
import type { SessionEnded } from "../session/session.events.js";
import { createMemoryStore } from "../store/memory.store.js";
import type { ClientContext, LoginRequestRecord, Store } from "../store/store.js";
import { useClockForProofs } from "./desktop-key.js";
import { createFakeClock, type FakeClock } from "./fake-clock.js";
import { PHONE } from "./fixtures.js";

/*
 * Kept apart from fixtures.ts: building every service loads all of the server (WebAuthn, zod
 * schemas, Redis config), which tests of one module (transitions, expiry, activity) need not pay for.
 */

/** Shared by every process of a test deployment: QR tokens and pseudonyms derive from it. */
export const SHARED_KEY = new Uint8Array(32).fill(7);

/** The capability a phone gets when it opens request `id` (what approve and deny take). */
export function qrCapabilityOf(id: string): string {
  return createQrTokenSigner({ key: SHARED_KEY }).capabilityFor({ loginRequestId: id });
}

export interface TestServices {
  services: Services;
  store: Store;
  clock: FakeClock;
  config: Config;
  /** Everything each channel published, in order: what the realtime layer would have heard. */
  published: { logins: LoginRequestChanged[]; sessions: SessionEnded[]; pushes: PushRequested[] };
}

/**
 * Every service as `createServices` wires it, on a memory store and a fake clock, with the
 * memory rate limits the configuration asks for. No HTTP, no sockets, no timers of its own.
 */
export function createTestServices(
  options: {
    /** Environment for `loadConfig`; default none (every default). */
    env?: Record<string, string>;
    /** Where addresses are; default nowhere (no places, every verdict unknown). */
    geo?: GeoLocator;
  } = {},
): TestServices {
  const config = loadConfig(options.env ?? {});
  const clock = createFakeClock();
  useClockForProofs(() => clock.now());
  const store = createMemoryStore({ clock });
  const rateLimits = createMemoryRateLimits({ clock, policies: rateLimitPolicies(config) });
  const services = createServices({
    config,
    store,
    clock,
    random: cryptoRandom,
    rateLimits,
    sharedKey: SHARED_KEY,
    geo: options.geo ?? LOCATE_NOWHERE,
  });
  const published: TestServices["published"] = { logins: [], sessions: [], pushes: [] };
  services.events.logins.subscribe((event) => void published.logins.push(event));
  services.events.sessions.subscribe((event) => void published.sessions.push(event));
  services.events.pushes.subscribe((event) => void published.pushes.push(event));
  return { services, store, clock, config, published };
}

/**
 * Scans and approves a request through the transition point, as `approvals.approve` does once a
 * passkey assertion has been verified (which needs a real authenticator: the integration tests
 * do that part).
 */
export async function approveWithoutPasskey(options: {
  services: Services;
  clock: FakeClock;
  id: string;
  userId: string;
  credentialId: string;
  phone?: ClientContext;
}): Promise<LoginRequestRecord> {
  const { transitions } = options.services.logins;
  const phone = options.phone ?? PHONE;
  const scanned = await transitions.apply({
    request: options.id,
    event: "scan",
    change: (current) => ({ scannedAt: current.scannedAt ?? options.clock.now(), scannedBy: phone }),
  });
  const now = options.clock.now();
  return transitions.apply({
    request: scanned,
    event: "approve",
    change: () => ({
      decidedAt: now,
      approvedAt: now,
      redeemBy: now + REDEEM_WINDOW_MS,
      userId: options.userId,
      credentialId: options.credentialId,
      approver: phone,
    }),
    actorUserId: options.userId,
  });
}
