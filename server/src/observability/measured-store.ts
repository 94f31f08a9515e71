import type { Store } from "../store/store.js";
import type { Metrics } from "./metrics.js";

/**
 * The store, with every operation timed and every failure counted by operation name (a
 * decorator, so neither store knows about metrics). A failure is still thrown to the caller.
 */
export function measureStore(store: Store, metrics: Pick<Metrics, "storeDuration" | "storeErrors">): Store {
  const measured = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      let wrapper = measured.get(property);
      if (wrapper === undefined) {
        const operation = property;
        const method = value as (...args: unknown[]) => unknown;
        wrapper = async (...args: unknown[]): Promise<unknown> => {
          const started = performance.now();
          try {
            return await method.apply(target, args);
          } catch (error) {
            metrics.storeErrors.inc({ operation });
            throw error;
          } finally {
            metrics.storeDuration.observe({ operation }, (performance.now() - started) / 1000);
          }
        };
        measured.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
