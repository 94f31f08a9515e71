import type { Proximity } from "@countersign/shared";
import ipaddr from "ipaddr.js";
import { publicAddress, type GeoLocation, type GeoLocator } from "./geo.js";

/** What the deployment counts as far (PROXIMITY_FAR_KM, PROXIMITY_OTHER_COUNTRY_IS_FAR). */
export interface ProximityPolicy {
  /** Farther apart than this, in km, is far away. */
  farKm: number;
  /** Whether being in different countries is far away at any distance (a border town is not). */
  otherCountryIsFar: boolean;
}

/** One device as the verdict sees it: its address, and where the database puts it. */
export interface Whereabouts {
  ip: string | null;
  location: GeoLocation | null;
}

const EARTH_RADIUS_KM = 6371;
/** Bits of an address that one subscriber's network usually spans: a home's or office's. */
const SAME_NETWORK_BITS = { ipv4: 24, ipv6: 64 } as const;

/**
 * How near the computer is to the phone (DESIGN §11), from both addresses; pure. In order:
 * an address that is missing or not public says nothing (unknown: behind a proxy without
 * TRUST_PROXY every client would otherwise share the proxy's address and look "same network");
 * the same IPv4 /24 or IPv6 /64 is the same network; a device the database does not place is
 * unknown; different countries are far (unless the policy says otherwise); and a distance is
 * judged only between two cities, since a country's or region's centre may lie hundreds of km
 * from anyone in it.
 */
export function judgeProximity(options: {
  desktop: Whereabouts;
  phone: Whereabouts;
  policy: ProximityPolicy;
}): Proximity {
  const { desktop, phone, policy } = options;
  const unknown: Proximity = { verdict: "unknown", distanceKm: null, otherCountry: false };
  const desktopAddress = publicAddress(desktop.ip);
  const phoneAddress = publicAddress(phone.ip);
  if (desktopAddress === null || phoneAddress === null) return unknown;
  if (onOneNetwork(desktopAddress, phoneAddress)) {
    return { verdict: "same_network", distanceKm: null, otherCountry: false };
  }
  if (desktop.location === null || phone.location === null) return unknown;
  const otherCountry = desktop.location.countryCode !== phone.location.countryCode;
  const bothCities = desktop.location.city !== null && phone.location.city !== null;
  const distanceKm = bothCities ? Math.round(distanceBetween(desktop.location, phone.location)) : null;
  if (otherCountry && policy.otherCountryIsFar) return { verdict: "far_away", distanceKm, otherCountry };
  if (distanceKm === null) return { ...unknown, otherCountry };
  return { verdict: distanceKm > policy.farKm ? "far_away" : "same_area", distanceKm, otherCountry };
}

/** Judges two devices by their addresses alone, looking both up: what reviews need. */
export interface ProximityJudge {
  between(options: { desktop: string | null; phone: string | null }): Proximity;
}

export function createProximityJudge(deps: { geo: GeoLocator; policy: ProximityPolicy }): ProximityJudge {
  return {
    between: ({ desktop, phone }) =>
      judgeProximity({
        desktop: { ip: desktop, location: deps.geo.locate(desktop) },
        phone: { ip: phone, location: deps.geo.locate(phone) },
        policy: deps.policy,
      }),
  };
}

/** The same /24 (IPv4) or /64 (IPv6): one home's or office's network, also as it rotates addresses. */
function onOneNetwork(a: ipaddr.IPv4 | ipaddr.IPv6, b: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (a instanceof ipaddr.IPv4 && b instanceof ipaddr.IPv4) return a.match(b, SAME_NETWORK_BITS.ipv4);
  if (a instanceof ipaddr.IPv6 && b instanceof ipaddr.IPv6) return a.match(b, SAME_NETWORK_BITS.ipv6);
  return false;
}

/** Great-circle distance (haversine) in km; plenty for "is it hundreds of km". */
export function distanceBetween(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const radians = (degrees: number): number => (degrees * Math.PI) / 180;
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
