import { describe, expect, it } from "vitest";
import { networkOf } from "./network.js";

describe("networkOf", () => {
  it("keys an IPv4 address by itself, also when a dual-stack socket maps it", () => {
    expect(networkOf("203.0.113.7")).toBe("203.0.113.7");
    expect(networkOf("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(networkOf("203.0.113.8")).not.toBe(networkOf("203.0.113.7"));
  });

  it("keys every address of one IPv6 /64 alike, and another /64 differently", () => {
    const home = networkOf("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
    expect(networkOf("2001:db8:1:2::1")).toBe(home);
    expect(networkOf("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe(home);
    expect(networkOf("2001:db8:1:3::1")).not.toBe(home);
  });

  it("puts missing and unparsable addresses in one bucket", () => {
    expect(networkOf(null)).toBe("unknown");
    expect(networkOf("not an address")).toBe("unknown");
  });
});
