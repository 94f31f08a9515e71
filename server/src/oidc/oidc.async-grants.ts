import { errors, type Provider } from "oidc-provider";
import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import type { LoginRequestService } from "../login-request/login-request.service.js";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { ClientContext, LoginApp, LoginRequestRecord, OidcRequestLink } from "../store/store.js";
import { hmacToken } from "../tokens.js";
import { COUNTERSIGN_ACR, PASSKEY_AMR } from "./oidc.claims.js";

/**
 * The two grants where nobody redeems at a desktop (DESIGN §10): the device authorization grant
 * (RFC 8628: a TV or CLI shows a code, the phone approves) and CIBA (the app's server names the
 * person, the phone approves). Each OpenID request gets one login request that stands for it, so
 * the phone reviews, approves with a passkey or denies exactly as it does a QR sign-in, through
 * the one transition point; when that request is decided, the OpenID request is settled here.
 */

/** The login request's id for an OpenID request: the same on every process (shared key). */
export function linkedLoginId(options: { key: Uint8Array; link: OidcRequestLink }): string {
  return hmacToken({ key: options.key, message: `oidc-login:${options.link.kind}:${options.link.id}`, bytes: 16 });
}

/**
 * When the login request standing for an OpenID record must expire, on our clock: as much later
 * than now as the record has left (its `remainingTTL`, in seconds). oidc-provider keeps its own
 * time with Date.now() (it cannot take an injected clock), so its timestamps are carried over as
 * time left, not copied.
 */
export function expiresAtFor(options: { clock: Clock; remainingSeconds: number }): number {
  if (!Number.isFinite(options.remainingSeconds)) {
    throw new TypeError(`an OpenID record without a lifetime: ${String(options.remainingSeconds)}`);
  }
  return options.clock.now() + Math.max(0, options.remainingSeconds) * 1000;
}

/** What the phone's "deny" means to the app: RFC 8628 §3.5 and CIBA §11 both say access_denied. */
const DENIED_DESCRIPTION = {
  denied: "The person denied the sign-in on their phone.",
  superseded: "A newer sign-in request replaced this one.",
} as const;

/**
 * Settles the device code or CIBA request behind each decided login request. Runs in the process
 * that made the decision, once per decision (the transition's compare-and-set picked it).
 */
export function settleAsyncGrants(deps: {
  provider: Provider;
  loginEvents: LoginRequestEvents;
  logins: LoginRequestService;
  /** A failure here must not turn the phone's successful decision into an error. */
  onError: (error: unknown, link: OidcRequestLink) => void;
}): void {
  const { provider } = deps;

  async function approveDeviceCode(request: LoginRequestRecord, id: string): Promise<boolean> {
    const code = await provider.DeviceCode.find(id, { ignoreExpiration: true });
    if (code === undefined || code.isExpired || code.accountId !== undefined || code.error !== undefined) return false;
    const accountId = request.userId!;
    const scope = String((code.params as Record<string, unknown> | undefined)?.scope ?? "openid");
    const grant = new provider.Grant({ accountId, clientId: code.clientId! });
    grant.addOIDCScope(scope);
    Object.assign(code, {
      accountId,
      grantId: await grant.save(),
      scope,
      acr: COUNTERSIGN_ACR,
      amr: PASSKEY_AMR,
      authTime: Math.floor(request.approvedAt! / 1000),
    });
    await code.save();
    return true;
  }

  async function denyDeviceCode(id: string, description: string): Promise<void> {
    const code = await provider.DeviceCode.find(id, { ignoreExpiration: true });
    if (code === undefined || code.isExpired || code.accountId !== undefined || code.error !== undefined) return;
    Object.assign(code, { error: "access_denied", errorDescription: description });
    await code.save();
  }

  async function findCibaRequest(id: string) {
    const found = await provider.BackchannelAuthenticationRequest.find(id, { ignoreExpiration: true });
    if (found === undefined || found.isExpired || found.grantId !== undefined || found.error !== undefined) {
      return undefined;
    }
    return found;
  }

  async function approveCiba(request: LoginRequestRecord, id: string): Promise<boolean> {
    const ciba = await findCibaRequest(id);
    if (ciba === undefined) return false;
    // The push went to this account only, and only its passkey could approve it; check anyway.
    if (ciba.accountId !== request.userId) {
      await provider.backchannelResult(ciba, new errors.AccessDenied("approved by another account"));
      return false;
    }
    const grant = new provider.Grant({ accountId: ciba.accountId!, clientId: ciba.clientId! });
    grant.addOIDCScope(ciba.scope ?? "openid");
    await grant.save();
    await provider.backchannelResult(ciba, grant, {
      acr: COUNTERSIGN_ACR,
      amr: PASSKEY_AMR,
      authTime: Math.floor(request.approvedAt! / 1000),
    });
    return true;
  }

  async function denyCiba(id: string, description: string): Promise<void> {
    const ciba = await findCibaRequest(id);
    if (ciba !== undefined) await provider.backchannelResult(ciba, new errors.AccessDenied(description));
  }

  async function settle(request: LoginRequestRecord, link: OidcRequestLink): Promise<void> {
    if (request.status === "approved") {
      const settled =
        link.kind === "device_code" ? await approveDeviceCode(request, link.id) : await approveCiba(request, link.id);
      // Done: the app collects its tokens at the token endpoint; nobody redeems this request.
      if (settled) await deps.logins.transitions.apply({ request, event: "redeem" });
      return;
    }
    if (request.status === "denied" || request.status === "superseded") {
      const description = DENIED_DESCRIPTION[request.status];
      await (link.kind === "device_code" ? denyDeviceCode(link.id, description) : denyCiba(link.id, description));
    }
    // Expired: the OpenID request runs out on its own clock (the same expiry), and the app hears
    // expired_token from the library.
  }

  deps.loginEvents.subscribe(async ({ before, after }) => {
    const link = after.oidc;
    if (link === null || before?.status === after.status) return;
    try {
      await settle(after, link);
    } catch (error) {
      // Lost a race with expiry (a conflict) is nothing to report; anything else is.
      if (error instanceof AppError && (error.code === "LOGIN_CONFLICT" || error.code === "LOGIN_EXPIRED")) return;
      deps.onError(error, link);
    }
  });
}

/** Opening a device's sign-in on the phone, by the user code it shows (RFC 8628 §3.3). */
export interface DeviceApprovals {
  /**
   * The login request that stands for the device code, scanned by this phone, with a passkey
   * challenge: what a QR scan gives, so the phone goes on exactly as after one.
   */
  findByUserCode(options: { userCode: string }): Promise<{
    request: LoginRequestRecord;
    /** The phone's proof for the next steps, as opening a QR gives it. */
    capability: string;
  }>;
}

export function createDeviceApprovals(deps: {
  provider: Provider;
  logins: LoginRequestService;
  sharedKey: Uint8Array;
  clock: Clock;
}): DeviceApprovals {
  const { provider } = deps;
  const notFound = () =>
    new AppError("LOGIN_NOT_FOUND", "No device is waiting for this code. Check the code on the device's screen.");

  return {
    async findByUserCode({ userCode }) {
      const code = await provider.DeviceCode.findByUserCode(userCode, { ignoreExpiration: true });
      if (code === undefined || code.jti === undefined) throw notFound();
      if (code.isExpired || code.consumed !== undefined) {
        throw new AppError("LOGIN_EXPIRED", "This code has expired. Start again on the device.");
      }
      // Once decided, the request that decided it is found here and the phone hears "already decided".
      const link: OidcRequestLink = { kind: "device_code", id: code.jti };
      const id = linkedLoginId({ key: deps.sharedKey, link });
      const client = await provider.Client.find(code.clientId!);
      if (client === undefined) throw notFound();
      const app: LoginApp = { name: client.clientName ?? client.clientId, via: "device", bindingMessage: null };
      const { request, capability } = await deps.logins.createOrFindLinked({
        id,
        desktop: deviceContextOf(code.deviceInfo),
        app,
        oidc: link,
        expiresAt: expiresAtFor({ clock: deps.clock, remainingSeconds: code.remainingTTL }),
      });
      return { request, capability };
    },
  };
}

/** What oidc.provider.ts keeps as a device code's `deviceInfo`: where the device asked from. */
function deviceContextOf(deviceInfo: unknown): ClientContext {
  const info = (deviceInfo ?? {}) as Partial<ClientContext>;
  return {
    ip: typeof info.ip === "string" ? info.ip : null,
    browser: typeof info.browser === "string" ? info.browser : null,
    os: typeof info.os === "string" ? info.os : null,
    deviceType: info.deviceType ?? "unknown",
    label: typeof info.label === "string" ? info.label : "Unknown device",
    place: typeof info.place === "string" ? info.place : null,
  };
}
