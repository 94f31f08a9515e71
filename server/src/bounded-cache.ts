/**
 * A map that keeps at most `capacity` entries, forgetting the least recently used first: for
 * caching what is costly to derive again from a key a client chooses (a User-Agent, a public
 * key), where an unbounded map would let clients grow this process's memory at will.
 */
export interface BoundedCache<K, V> {
  /** The value stored for `key`, now the most recently used; undefined if there is none. */
  get(key: K): V | undefined;
  /** Stores `value` for `key` as the most recently used, forgetting the oldest beyond capacity. */
  set(key: K, value: V): void;
  readonly size: number;
}

export function createBoundedCache<K, V>(options: { capacity: number }): BoundedCache<K, V> {
  const { capacity } = options;
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`capacity must be a whole number of at least 1, got ${String(capacity)}`);
  }
  // A Map iterates in insertion order: re-inserting on use keeps the oldest first.
  const entries = new Map<K, V>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > capacity) entries.delete(entries.keys().next().value as K);
    },
    get size() {
      return entries.size;
    },
  };
}
