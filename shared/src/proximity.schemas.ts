import { z } from "zod";

/**
 * How near the computer asking to sign in is to the phone looking at the request (DESIGN §11),
 * judged on the server from both devices' addresses:
 *
 * - `same_network`: the same public address, or the same IPv4 /24 or IPv6 /64;
 * - `same_area`: both located, closer than the deployment's threshold, and (unless the
 *   deployment says otherwise) in the same country;
 * - `far_away`: farther than the threshold, or in another country: what a relayed QR code or
 *   push looks like;
 * - `unknown`: an address that says nothing about where a device is (missing, private,
 *   loopback, not in the database, only a country's centre), or an app's server asking (CIBA).
 */
export const PROXIMITY_VERDICTS = ["same_network", "same_area", "far_away", "unknown"] as const;
export const proximityVerdictSchema = z.enum(PROXIMITY_VERDICTS);
export type ProximityVerdict = z.infer<typeof proximityVerdictSchema>;

export const proximitySchema = z.object({
  verdict: proximityVerdictSchema,
  /** Between the two places' centres, rounded to whole km; null unless both are known to a city. */
  distanceKm: z.number().nonnegative().nullable(),
  /** The two are located in different countries (whether or not that alone makes it far). */
  otherCountry: z.boolean(),
});
export type Proximity = z.infer<typeof proximitySchema>;

/**
 * A distance as a person reads it: "about 40 km", "about 1,200 km". Rounded to what the data
 * can support (places are city centres), so nobody reads precision into it.
 */
export function approximateDistance(distanceKm: number): string {
  const step = distanceKm < 100 ? 10 : distanceKm < 1000 ? 50 : 100;
  const rounded = Math.max(step, Math.round(distanceKm / step) * step);
  return `about ${rounded.toLocaleString("en")} km`;
}
