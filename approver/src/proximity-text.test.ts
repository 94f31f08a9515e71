import { describe, expect, it } from "vitest";
import type { Proximity } from "@countersign/shared";
import { isFarAway, nearPlace, proximityText } from "./proximity-text.js";

const verdict = (proximity: Partial<Proximity> & Pick<Proximity, "verdict">): Proximity => ({
  distanceKm: null,
  otherCountry: false,
  ...proximity,
});

describe("proximityText", () => {
  it("says each verdict in plain words", () => {
    expect(proximityText(verdict({ verdict: "same_network" }))).toBe("Same network as this phone");
    expect(proximityText(verdict({ verdict: "same_area", distanceKm: 63 }))).toBe("In your area");
    expect(proximityText(verdict({ verdict: "unknown" }))).toBe("Location unknown");
  });

  it("says how far, roughly, or that it is another country when no distance is known", () => {
    expect(proximityText(verdict({ verdict: "far_away", distanceKm: 1_234 }))).toBe(
      "Far from this phone: about 1,200 km",
    );
    expect(proximityText(verdict({ verdict: "far_away", distanceKm: 15_596, otherCountry: true }))).toBe(
      "Far from this phone: about 15,600 km",
    );
    expect(proximityText(verdict({ verdict: "far_away", distanceKm: 38, otherCountry: true }))).toBe(
      "Far from this phone: about 40 km",
    );
    expect(proximityText(verdict({ verdict: "far_away", otherCountry: true }))).toBe(
      "Far from this phone: in another country",
    );
  });
});

describe("isFarAway and nearPlace", () => {
  it("branch on the verdict and name the place", () => {
    expect(isFarAway({ proximity: verdict({ verdict: "far_away" }) })).toBe(true);
    expect(isFarAway({ proximity: verdict({ verdict: "unknown" }) })).toBe(false);
    const desktop = { ip: "130.237.0.1", browser: null, os: null, deviceType: "desktop", label: "x" } as const;
    expect(nearPlace({ ...desktop, place: "Stockholm, Sweden" })).toBe("near Stockholm, Sweden");
    expect(nearPlace({ ...desktop, place: null })).toBeNull();
  });
});
