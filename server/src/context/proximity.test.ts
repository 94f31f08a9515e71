import { describe, expect, it } from "vitest";
import { ADDRESSES, testGeoLocator } from "../testing/places.js";
import type { GeoLocation } from "./geo.js";
import { createProximityJudge, distanceBetween, judgeProximity, type ProximityPolicy } from "./proximity.js";

const DEFAULT_POLICY: ProximityPolicy = { farKm: 300, otherCountryIsFar: true };
const geo = testGeoLocator();
const judge = createProximityJudge({ geo, policy: DEFAULT_POLICY });

/** The verdict for a computer at `desktop` and a phone at `phone`, both looked up in the database. */
const between = (desktop: string | null, phone: string | null, policy: ProximityPolicy = DEFAULT_POLICY) =>
  createProximityJudge({ geo, policy }).between({ desktop, phone });

describe("proximity between addresses from the shipped database", () => {
  it("calls the same address the same network", () => {
    expect(judge.between({ desktop: ADDRESSES.stockholm, phone: ADDRESSES.stockholm })).toEqual({
      verdict: "same_network",
      distanceKm: null,
      otherCountry: false,
    });
  });

  it("calls another address in the same IPv4 /24 the same network", () => {
    expect(between(ADDRESSES.stockholm, ADDRESSES.stockholmSameNetwork).verdict).toBe("same_network");
  });

  it("calls another address in the same IPv6 /64 the same network, also unlisted ones", () => {
    expect(between("2001:6b0:e:2018::172", "2001:6b0:e:2018:aaaa:bbbb:cccc:dddd").verdict).toBe("same_network");
    // Another /64 of the same provider is another network, judged by place instead.
    expect(between("2001:6b0:e:2018::172", "2001:6b0:e:2019::1").verdict).toBe("same_area");
  });

  it("calls two networks in one area the same area, with the distance (Stockholm and Uppsala)", () => {
    expect(between(ADDRESSES.stockholm, ADDRESSES.uppsala)).toEqual({
      verdict: "same_area",
      distanceKm: 63,
      otherCountry: false,
    });
  });

  it("calls the same country but farther than the threshold far away (Stockholm and Gothenburg)", () => {
    expect(between(ADDRESSES.stockholm, ADDRESSES.gothenburg)).toEqual({
      verdict: "far_away",
      distanceKm: 397,
      otherCountry: false,
    });
  });

  it("follows the configured threshold", () => {
    const wide = { ...DEFAULT_POLICY, farKm: 500 };
    expect(between(ADDRESSES.stockholm, ADDRESSES.gothenburg, wide).verdict).toBe("same_area");
    expect(between(ADDRESSES.sydney, ADDRESSES.melbourne, wide).verdict).toBe("far_away");
  });

  it("calls different continents far away (Stockholm and Sydney), in either direction", () => {
    const expected = { verdict: "far_away", distanceKm: 15_596, otherCountry: true };
    expect(between(ADDRESSES.stockholm, ADDRESSES.sydney)).toEqual(expected);
    expect(between(ADDRESSES.sydney, ADDRESSES.stockholm)).toEqual(expected);
  });

  it("calls another country far away even next door, unless configured otherwise (Malmö and Copenhagen)", () => {
    expect(between(ADDRESSES.malmo, ADDRESSES.copenhagenArea)).toEqual({
      verdict: "far_away",
      distanceKm: 38,
      otherCountry: true,
    });
    expect(between(ADDRESSES.malmo, ADDRESSES.copenhagenArea, { ...DEFAULT_POLICY, otherCountryIsFar: false })).toEqual(
      {
        verdict: "same_area",
        distanceKm: 38,
        otherCountry: true,
      },
    );
  });

  it("compares an IPv6 phone with an IPv4 computer by place", () => {
    expect(between(ADDRESSES.gothenburg, ADDRESSES.gothenburgV6)).toMatchObject({ verdict: "same_area" });
  });

  it("judges no distance from a country's centre: unknown in the same country, far in another", () => {
    expect(between(ADDRESSES.stockholm, ADDRESSES.swedenOnly)).toEqual({
      verdict: "unknown",
      distanceKm: null,
      otherCountry: false,
    });
    expect(between(ADDRESSES.sydney, ADDRESSES.swedenOnly)).toEqual({
      verdict: "far_away",
      distanceKm: null,
      otherCountry: true,
    });
    const notFar = { ...DEFAULT_POLICY, otherCountryIsFar: false };
    expect(between(ADDRESSES.sydney, ADDRESSES.swedenOnly, notFar)).toEqual({
      verdict: "unknown",
      distanceKm: null,
      otherCountry: true,
    });
  });

  it("says unknown when either address is private, loopback, missing or not in the database", () => {
    for (const [desktop, phone] of [
      ["127.0.0.1", "127.0.0.1"],
      ["::1", ADDRESSES.stockholm],
      [ADDRESSES.stockholm, "192.168.1.20"],
      ["10.0.0.5", "10.0.0.5"],
      [ADDRESSES.sydney, null],
      [null, null],
      [ADDRESSES.stockholm, "1.1.1.1"],
    ] as const) {
      expect(between(desktop, phone), `${desktop} / ${phone}`).toEqual({
        verdict: "unknown",
        distanceKm: null,
        otherCountry: false,
      });
    }
  });
});

describe("judgeProximity", () => {
  const at = (place: Partial<GeoLocation> & Pick<GeoLocation, "latitude" | "longitude">): GeoLocation => ({
    city: "Somewhere",
    region: null,
    countryCode: "SE",
    countryName: "Sweden",
    ...place,
  });

  it("never calls two devices behind one proxy's private address the same network", () => {
    // Without TRUST_PROXY behind a proxy, every client has the proxy's address.
    const proxy = { ip: "10.0.0.5", location: null };
    expect(judgeProximity({ desktop: proxy, phone: proxy, policy: DEFAULT_POLICY }).verdict).toBe("unknown");
  });

  it("counts exactly the threshold as near and anything past it as far", () => {
    const desktop = { ip: "130.237.0.1", location: at({ latitude: 0, longitude: 0 }) };
    // 1° of longitude on the equator is about 111.2 km.
    const phone = { ip: "129.16.1.1", location: at({ latitude: 0, longitude: 1 }) };
    const near = judgeProximity({ desktop, phone, policy: { farKm: 111, otherCountryIsFar: true } });
    expect(near).toEqual({ verdict: "same_area", distanceKm: 111, otherCountry: false });
    const far = judgeProximity({ desktop, phone, policy: { farKm: 110, otherCountryIsFar: true } });
    expect(far.verdict).toBe("far_away");
  });

  it("needs a city on both sides for a distance; a region's centre is not enough", () => {
    const desktop = { ip: "130.237.0.1", location: at({ latitude: 59.3, longitude: 18.1 }) };
    const phone = {
      ip: "129.16.1.1",
      location: at({ city: null, region: "Norrbotten County", latitude: 66, longitude: 20 }),
    };
    expect(judgeProximity({ desktop, phone, policy: DEFAULT_POLICY }).verdict).toBe("unknown");
  });
});

describe("distanceBetween", () => {
  it("measures great-circle distances", () => {
    expect(distanceBetween({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 0 })).toBe(0);
    // A quarter of the way round the Earth.
    expect(distanceBetween({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 90 })).toBeCloseTo(10_007.5, 0);
    expect(distanceBetween({ latitude: 90, longitude: 0 }, { latitude: -90, longitude: 0 })).toBeCloseTo(20_015.1, 0);
  });
});
