import type { ClientContextView, LoginReview, LoginView, RiskSignal } from "@countersign/shared";
import type { LoginRequestRecord } from "../store/store.js";

/** What the desktop sees: status and the phone's device, never the person until redeemed. */
export function toLoginView(request: LoginRequestRecord): LoginView {
  return {
    id: request.id,
    status: request.status,
    version: request.version,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    redeemBy: request.redeemBy,
    scannedBy:
      request.scannedBy === null
        ? null
        : {
            browser: request.scannedBy.browser,
            os: request.scannedBy.os,
            deviceType: request.scannedBy.deviceType,
            label: request.scannedBy.label,
          },
    denyReason: request.denyReason,
  };
}

/** What the phone shows before the person decides. */
export function toLoginReview(request: LoginRequestRecord, options: { viewer: ClientContextView }): LoginReview {
  return {
    id: request.id,
    status: request.status,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    desktop: request.desktop,
    // An app's server (CIBA) is not where the person is: only a browser's or device's address is.
    risks: request.app?.via === "backchannel" ? [] : assessRisks({ desktop: request.desktop, phone: options.viewer }),
    app: request.app,
  };
}

function assessRisks(options: { desktop: ClientContextView; phone: ClientContextView }): RiskSignal[] {
  const risks: RiskSignal[] = [];
  const { desktop, phone } = options;
  // Home and office networks share one public address; different addresses mean the
  // computer is somewhere else, which is exactly what a remote attacker's request looks like.
  if (desktop.ip !== null && phone.ip !== null && desktop.ip !== phone.ip) {
    risks.push({
      code: "different_network",
      message: "This phone and the computer asking to sign in are on different networks.",
    });
  }
  return risks;
}
