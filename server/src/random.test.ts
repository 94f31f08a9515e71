import { describe, expect, it } from "vitest";
import { createPooledRandom, randomString, randomToken, type Random } from "./random.js";

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

describe("createPooledRandom", () => {
  it("hands out the lengths asked for, across pool refills and beyond the pool's size", () => {
    const random = createPooledRandom(64);
    const lengths = [1, 16, 32, 15, 64, 65, 200, 0, 7];
    for (const length of lengths) expect(random.bytes(length)).toHaveLength(length);
  });

  it("never hands out the same bytes twice, and gives each caller its own copy", () => {
    const random = createPooledRandom(64);
    const seen = new Set<string>();
    // 16-byte draws crossing many refills: a repeat would mean a reused pool slice.
    for (let index = 0; index < 1000; index += 1) {
      const draw = random.bytes(16);
      const hex = Buffer.from(draw).toString("hex");
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
      draw.fill(0);
    }
    const kept = random.bytes(8);
    const copy = Uint8Array.from(kept);
    random.bytes(8);
    expect(kept).toEqual(copy);
  });
});
