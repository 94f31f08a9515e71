import { describe, expect, it } from "vitest";
import { createBoundedCache } from "./bounded-cache.js";

describe("createBoundedCache", () => {
  it("forgets the least recently used entry once over capacity", () => {
    const cache = createBoundedCache<string, number>({ capacity: 2 });
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBe(2);
  });

  it("replaces the value of a key it holds without growing", () => {
    const cache = createBoundedCache<string, number>({ capacity: 2 });
    cache.set("a", 1);
    cache.set("a", 2);
    expect(cache.get("a")).toBe(2);
    expect(cache.size).toBe(1);
  });

  it("never holds more than its capacity, however many keys it is given", () => {
    const cache = createBoundedCache<number, number>({ capacity: 100 });
    for (let key = 0; key < 10_000; key += 1) cache.set(key, key);
    expect(cache.size).toBe(100);
    expect(cache.get(9_999)).toBe(9_999);
    expect(cache.get(0)).toBeUndefined();
  });

  it("refuses a capacity below one", () => {
    expect(() => createBoundedCache({ capacity: 0 })).toThrow("capacity must be a whole number of at least 1, got 0");
  });
});
