import type { Clock } from "../clock.js";
import type { Deployment } from "../deployment.js";
import type { Random } from "../random.js";
import { createMemoryRateLimits } from "../rate-limit/rate-limits.memory.js";
import type { RateLimitPolicies } from "../rate-limit/rate-limits.js";
import { createMemoryStore } from "./memory.store.js";
import type { Store } from "./store.js";

/**
 * The embedded deployment (DESIGN §4): one process, everything in its memory, nothing to reach
 * over a network, so nothing is ever unavailable. Its shared key is shared with nobody: a fresh
 * random one per process.
 */
export function createMemoryDeployment(options: {
  clock: Clock;
  random: Random;
  /** A store of the caller's (a test's recording wrapper, say). Default: a new memory store. */
  store?: Store;
  /** Default: none, so the app counts with the limits its configuration sets. */
  rateLimits?: RateLimitPolicies;
}): Deployment {
  const { clock } = options;
  const store = options.store ?? createMemoryStore({ clock });
  return {
    store,
    rateLimits:
      options.rateLimits === undefined ? undefined : createMemoryRateLimits({ clock, policies: options.rateLimits }),
    sharedKey: options.random.bytes(32),
    isUnavailable: () => false,
    checkReady: () => Promise.resolve(),
    close: () => store.close(),
  };
}
