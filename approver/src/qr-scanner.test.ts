import { describe, expect, it } from "vitest";
import { approverLinkFrom } from "./qr-scanner.js";

describe("approverLinkFrom", () => {
  const origin = "https://login.example.com";

  it("accepts a sign-in link of this site and returns its route", () => {
    expect(approverLinkFrom(`${origin}/approve/#/r/abc_-1.tok-2`, origin)).toBe("#/r/abc_-1.tok-2");
  });

  it("refuses links to other sites, other paths, and text that is not a sign-in link", () => {
    expect(approverLinkFrom("https://evil.example/approve/#/r/abc.tok", origin)).toBeNull();
    expect(approverLinkFrom(`${origin}/elsewhere/#/r/abc.tok`, origin)).toBeNull();
    expect(approverLinkFrom(`${origin}/approve/#/r/abc`, origin)).toBeNull();
    expect(approverLinkFrom("just some text", origin)).toBeNull();
  });
});
