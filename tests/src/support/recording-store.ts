import type { Store } from "@countersign/server";

/** Method names that write, by the store's naming convention. */
const MUTATING = /^(create|add|remove|record|advance|put|take|compareAndSet|redeem|delete|swap|pause|append)/;
/** Method names that only read; `close` ends the store and is the test's own business. */
const READING = /^(get|find|list|count|has|is|pushesPausedUntil$|close$)/;

export interface RecordingStore {
  /** The store to give the server: every call reaches the wrapped store. */
  readonly store: Store;
  /** The mutating calls since the last reset, by method name, in the order they were made. */
  readonly mutations: readonly string[];
  reset(): void;
}

/**
 * Wraps a store so a test can prove that a request changed nothing: each mutating call is
 * noted before it is delegated. A method that fits neither naming pattern counts as mutating
 * until someone names it properly, so a new write cannot slip past unnoticed.
 */
export function createRecordingStore(inner: Store): RecordingStore {
  const mutations: string[] = [];
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      const method = value as (...args: unknown[]) => unknown;
      const mutating = MUTATING.test(property) || !READING.test(property);
      return (...args: unknown[]): unknown => {
        if (mutating) mutations.push(property);
        return method.apply(target, args);
      };
    },
  });
  return {
    store,
    mutations,
    reset() {
      mutations.length = 0;
    },
  };
}
