import Bowser from "bowser";
import type { DeviceType } from "@countersign/shared";
import { createBoundedCache } from "../bounded-cache.js";
import type { ClientContext } from "../store/store.js";
import { describePlace, type GeoLocator } from "./geo.js";

const MAX_FIELD = 64;
/** Real User-Agents are a few hundred characters; parsing more only costs time. */
const MAX_USER_AGENT = 512;

type BrowserDescription = Pick<ClientContext, "browser" | "os" | "deviceType" | "label">;
/**
 * One sign-in describes the same two browsers several times (create, open, approve, redeem), and
 * a deployment sees few distinct User-Agents; parsing one is most of describing it. Bounded,
 * since the text is the client's: at most 1,000 × 512 characters.
 */
const descriptions = createBoundedCache<string, BrowserDescription>({ capacity: 1_000 });

/**
 * Describes a browser from its User-Agent and address, for a person to recognise ("Pixel 8 ·
 * Chrome", "Stockholm, Sweden"). The User-Agent is attacker-controlled text, so every field is
 * trimmed and capped. Without `geo` (or for an address it cannot place) the place is null.
 */
export function describeClient(options: {
  userAgent: string | undefined;
  ip: string | undefined;
  geo?: GeoLocator;
}): ClientContext {
  const ip = normaliseIp(options.ip);
  const location = options.geo?.locate(ip) ?? null;
  const place = location === null ? null : describePlace(location);
  // Bowser throws on an empty string; a client may well send no User-Agent at all.
  const userAgent = (options.userAgent ?? "").slice(0, MAX_USER_AGENT).trim();
  if (userAgent === "") {
    return { ip, browser: null, os: null, deviceType: "unknown", label: "Unknown device · unknown browser", place };
  }
  let description = descriptions.get(userAgent);
  if (description === undefined) {
    description = describeBrowser(userAgent);
    descriptions.set(userAgent, description);
  }
  return { ip, ...description, place };
}

function describeBrowser(userAgent: string): BrowserDescription {
  const parsed = Bowser.parse(userAgent);
  const browser = clean(parsed.browser.name);
  const os = clean(
    [parsed.os.name, parsed.os.versionName ?? majorVersion(parsed.os.version)].filter(Boolean).join(" "),
  );
  const model = clean(parsed.platform.model) ?? androidModel(userAgent);
  const deviceType = toDeviceType(parsed.platform.type);
  const label = `${model ?? clean(parsed.os.name) ?? "Unknown device"} · ${browser ?? "unknown browser"}`;
  return { browser, os, deviceType, label };
}

/** "::ffff:10.0.0.5" is IPv4 10.0.0.5 as seen by a dual-stack socket. */
export function normaliseIp(ip: string | undefined): string | null {
  if (ip === undefined || ip === "") return null;
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice("::ffff:".length) : ip;
}

/**
 * Android puts the model after the version ("Android 14; Pixel 8)"). Chrome's reduced
 * User-Agent replaces it with "K", which names nothing.
 */
function androidModel(userAgent: string | undefined): string | null {
  const model = /Android [\d.]+; ([^;)]+)\)/.exec(userAgent ?? "")?.[1];
  return model === undefined || model.trim() === "K" ? null : clean(model.replace(/ Build\/.*$/, ""));
}

function clean(value: string | undefined): string | null {
  if (value === undefined) return null;
  const text = value
    .replace(/[\p{Cc}\p{Cf}]/gu, "")
    .trim()
    .slice(0, MAX_FIELD);
  return text === "" ? null : text;
}

function majorVersion(version: string | undefined): string | undefined {
  return version?.split(".")[0];
}

function toDeviceType(type: string | undefined): DeviceType {
  if (type === "desktop" || type === "mobile" || type === "tablet") return type;
  return "unknown";
}
