import type { ClientContextView, Proximity } from "@countersign/shared";
import type { ProximityJudge } from "../context/proximity.js";
import type { LoginRequestRecord } from "../store/store.js";

export const UNKNOWN_PROXIMITY: Proximity = { verdict: "unknown", distanceKm: null, otherCountry: false };

/**
 * How near the request's computer is to `phone`. An app's server asking (CIBA) is not where the
 * person is, so its address says nothing: unknown. A TV or CLI (device grant) is where it is.
 */
export function judgeRequestProximity(options: {
  request: LoginRequestRecord;
  phone: ClientContextView;
  judge: ProximityJudge;
}): Proximity {
  const { request, phone, judge } = options;
  if (request.app?.via === "backchannel") return UNKNOWN_PROXIMITY;
  return judge.between({ desktop: request.desktop.ip, phone: phone.ip });
}

/**
 * What a request keeps when a phone opens it: that phone's verdict, except that "far_away" once
 * seen stays. Otherwise whoever relayed the QR could open it again from beside the computer,
 * after the victim did and before they approve, and make it look near.
 */
export function proximityAfterOpening(options: { stored: Proximity | null; judged: Proximity }): Proximity {
  return options.stored?.verdict === "far_away" ? options.stored : options.judged;
}
