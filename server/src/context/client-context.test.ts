import { describe, expect, it } from "vitest";
import { ADDRESSES, testGeoLocator } from "../testing/places.js";
import { describeClient, normaliseIp } from "./client-context.js";

describe("describeClient", () => {
  it("names an Android phone by its model", () => {
    const context = describeClient({
      userAgent:
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
      ip: "::ffff:192.168.1.20",
    });
    expect(context).toEqual({
      ip: "192.168.1.20",
      browser: "Chrome",
      os: "Android 14",
      deviceType: "mobile",
      label: "Pixel 8 · Chrome",
      place: null,
    });
  });

  it("falls back to the OS when Chrome's reduced User-Agent hides the model", () => {
    const context = describeClient({
      userAgent:
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
      ip: undefined,
    });
    expect(context.label).toBe("Android · Chrome");
    expect(context.ip).toBeNull();
  });

  it("describes a desktop browser and an iPhone", () => {
    expect(
      describeClient({
        userAgent:
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        ip: "10.0.0.1",
      }),
    ).toMatchObject({ browser: "Safari", deviceType: "desktop", label: "macOS · Safari" });
    expect(
      describeClient({
        userAgent:
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ip: "10.0.0.2",
      }),
    ).toMatchObject({ deviceType: "mobile", label: "iPhone · Safari" });
  });

  it("caps and strips hostile User-Agent text", () => {
    const context = describeClient({
      userAgent: `Mozilla/5.0 (Linux; Android 14; ${"X".repeat(500)}\u202e) Chrome/1`,
      ip: "1.2.3.4",
    });
    expect(context.label.length).toBeLessThan(100);
    expect(context.label).not.toContain("\u202e");
  });

  it("says so when it knows nothing", () => {
    expect(describeClient({ userAgent: undefined, ip: undefined })).toMatchObject({
      browser: null,
      deviceType: "unknown",
      label: "Unknown device · unknown browser",
    });
  });
});

describe("describeClient: the place", () => {
  const geo = testGeoLocator();

  it("names the place the database puts the address in, also for an IPv4-mapped address", () => {
    expect(describeClient({ userAgent: "curl/8", ip: ADDRESSES.stockholm, geo }).place).toBe("Stockholm, Sweden");
    expect(describeClient({ userAgent: undefined, ip: `::ffff:${ADDRESSES.sydney}`, geo })).toMatchObject({
      ip: ADDRESSES.sydney,
      place: "Sydney, Australia",
    });
    expect(describeClient({ userAgent: undefined, ip: ADDRESSES.swedenOnly, geo }).place).toBe("Sweden");
  });

  it("names no place for a private or loopback address, or without the database", () => {
    expect(describeClient({ userAgent: undefined, ip: "192.168.1.20", geo }).place).toBeNull();
    expect(describeClient({ userAgent: undefined, ip: "::1", geo }).place).toBeNull();
    expect(describeClient({ userAgent: undefined, ip: ADDRESSES.stockholm }).place).toBeNull();
  });
});

describe("normaliseIp", () => {
  it("unwraps IPv4-mapped IPv6 and keeps real IPv6", () => {
    expect(normaliseIp("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normaliseIp("2001:db8::1")).toBe("2001:db8::1");
  });
});
