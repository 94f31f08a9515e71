import {
  approximateDistance,
  type ClientContextView,
  type LoginReview,
  type LoginView,
  type Proximity,
  type RiskSignal,
} from "@countersign/shared";
import type { ProximityJudge } from "../context/proximity.js";
import type { LoginRequestRecord } from "../store/store.js";
import { judgeRequestProximity, UNKNOWN_PROXIMITY } from "./login-request.proximity.js";

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
    // Shown once a far-away phone opened it: the person at this computer types it on their phone.
    checkNumber: request.proximity?.verdict === "far_away" ? request.checkNumber : null,
  };
}

/**
 * What the phone shows before the person decides. Once a phone has opened the request, its
 * proximity is the one judged then (what approving enforces, see LoginRequestRecord); before
 * that (a push listed in the inbox) it is judged for `viewer` on the spot, given a judge, and
 * unknown without one (the broadcast to all of a person's phones, whose addresses differ).
 */
export function toLoginReview(
  request: LoginRequestRecord,
  options: { viewer: ClientContextView | null; judge?: ProximityJudge },
): LoginReview {
  const { viewer, judge } = options;
  const proximity =
    request.proximity ??
    (viewer === null || judge === undefined
      ? UNKNOWN_PROXIMITY
      : judgeRequestProximity({ request, phone: viewer, judge }));
  return {
    id: request.id,
    status: request.status,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    desktop: request.desktop,
    proximity,
    risks: assessRisks({ desktop: request.desktop, proximity }),
    app: request.app,
  };
}

function assessRisks(options: { desktop: ClientContextView; proximity: Proximity }): RiskSignal[] {
  const { desktop, proximity } = options;
  if (proximity.verdict !== "far_away") return [];
  // A relayed QR code or push looks exactly like this: the computer is somewhere else.
  const howFar =
    proximity.distanceKm !== null
      ? `${approximateDistance(proximity.distanceKm)} from this phone`
      : proximity.otherCountry
        ? "in another country than this phone"
        : "far from this phone";
  const where = desktop.place === null ? howFar : `near ${desktop.place}, ${howFar}`;
  return [
    {
      code: "far_away",
      message:
        `The computer asking to sign in seems to be ${where}. ` +
        "If you are not there yourself, someone may be trying to trick you into letting them in.",
    },
  ];
}
