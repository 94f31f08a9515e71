import { describe, expect, it } from "vitest";
import { randomString, randomToken, type Random } from "./random.js";

/** Hands out the given bytes, in order, as if they were random. */
function scripted(bytes: number[]): Random {
  let index = 0;
  return { bytes: (length) => Uint8Array.from({ length }, () => bytes[index++ % bytes.length]!) };
}

describe("randomString", () => {
  it("skips bytes that would bias the alphabet (rejection sampling)", () => {
    // With 30 letters, bytes ≥ 240 are rejected; 241 must never turn into a letter.
    const value = randomString(scripted([241, 0, 241, 1]), { alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ2345", length: 2 });
    expect(value).toBe("AB");
  });

  it("uses only the alphabet and gives the requested length", () => {
    const value = randomString(
      { bytes: (n) => crypto.getRandomValues(new Uint8Array(n)) },
      { alphabet: "XYZ", length: 50 },
    );
    expect(value).toMatch(/^[XYZ]{50}$/);
  });
});

describe("randomToken", () => {
  it("encodes the bytes as base64url without padding", () => {
    expect(randomToken(scripted([0xfb, 0xff]), 2)).toBe("-_8");
  });
});
