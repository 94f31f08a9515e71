import { describe, expect, it } from "vitest";
import { ADDRESSES, testGeoLocator } from "../testing/places.js";
import { describePlace, LOCATE_NOWHERE, publicAddress } from "./geo.js";

const geo = testGeoLocator();

describe("loadGeoLocator: the shipped database", () => {
  it("places every test address where the tests expect it", () => {
    // If a data update moves one of these, pick another address and say why in testing/places.ts.
    const places = Object.fromEntries(
      Object.entries(ADDRESSES).map(([name, ip]) => {
        const location = geo.locate(ip);
        return [name, location === null ? null : describePlace(location)];
      }),
    );
    expect(places).toEqual({
      stockholm: "Stockholm, Sweden",
      stockholmSameNetwork: "Stockholm, Sweden",
      uppsala: "Uppsala, Sweden",
      gothenburg: "Gothenburg, Sweden",
      malmo: "Malmo, Sweden",
      copenhagenArea: "Bagsvaerd, Denmark",
      sydney: "Sydney, Australia",
      melbourne: "Melbourne, Australia",
      swedenOnly: "Sweden",
      gothenburgV6: "Gothenburg, Sweden",
    });
  });

  it("gives a city's coordinates, region, country code and English country name", () => {
    const stockholm = geo.locate(ADDRESSES.stockholm);
    expect(stockholm).toMatchObject({
      city: "Stockholm",
      region: "Stockholm County",
      countryCode: "SE",
      countryName: "Sweden",
    });
    expect(stockholm?.latitude).toBeCloseTo(59.33, 1);
    expect(stockholm?.longitude).toBeCloseTo(18.07, 1);
    expect(geo.locate(ADDRESSES.sydney)).toMatchObject({ city: "Sydney", countryCode: "AU", countryName: "Australia" });
  });

  it("looks up an IPv4 address a dual-stack socket reports as IPv4-mapped IPv6", () => {
    expect(geo.locate(`::ffff:${ADDRESSES.stockholm}`)).toEqual(geo.locate(ADDRESSES.stockholm));
  });

  it("says only the country where the database knows no city", () => {
    expect(geo.locate(ADDRESSES.swedenOnly)).toMatchObject({ city: null, region: null, countryCode: "SE" });
  });

  it("locates nobody at a private, loopback, reserved or unparsable address, nor without one", () => {
    for (const ip of [
      "127.0.0.1",
      "::1",
      "10.1.2.3",
      "192.168.1.20",
      "172.16.0.9",
      "100.64.0.1", // carrier-grade NAT
      "169.254.1.1",
      "fe80::1",
      "fd00::1",
      "203.0.113.7", // documentation ranges, which the other tests use for "nowhere"
      "2001:db8::1",
      "not an address",
      "",
      null,
    ]) {
      expect(geo.locate(ip), String(ip)).toBeNull();
    }
  });

  it("returns null for a public address the database does not list", () => {
    // 1.1.1.1 (Cloudflare's resolver, anycast) has no record in this database.
    expect(geo.locate("1.1.1.1")).toBeNull();
  });
});

describe("describePlace", () => {
  const sweden = { countryCode: "SE", countryName: "Sweden", latitude: 62, longitude: 15 };

  it("names the city and country, else the region and country, else the country", () => {
    expect(describePlace({ ...sweden, city: "Stockholm", region: "Stockholm County" })).toBe("Stockholm, Sweden");
    expect(describePlace({ ...sweden, city: null, region: "Stockholm County" })).toBe("Stockholm County, Sweden");
    expect(describePlace({ ...sweden, city: null, region: null })).toBe("Sweden");
  });
});

describe("publicAddress", () => {
  it("keeps public unicast addresses and unwraps IPv4-mapped ones", () => {
    expect(publicAddress("::ffff:130.237.0.1")?.toString()).toBe("130.237.0.1");
    expect(publicAddress("2001:6b0:e:2018::172")?.kind()).toBe("ipv6");
    expect(publicAddress("127.0.0.1")).toBeNull();
  });
});

describe("LOCATE_NOWHERE", () => {
  it("locates nobody", () => {
    expect(LOCATE_NOWHERE.locate(ADDRESSES.stockholm)).toBeNull();
  });
});
