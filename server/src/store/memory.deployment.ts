import type { Clock } from "../clock.js";
import type { Deployment } from "../deployment.js";
import { createMemoryOidcStorage } from "../oidc/oidc.storage.memory.js";
import type { Random } from "../random.js";
import { createMemoryRateLimits } from "../rate-limit/rate-limits.memory.js";
import type { RateLimitPolicies } from "../rate-limit/rate-limits.js";
import { createMemoryStore } from "./memory.store.js";
import type { Store } from "./store.js";

/**
 * The embedded deployment (DESIGN §4): one process, everything in its memory, nothing to reach
 * over a network, so nothing is ever unavailable. Its shared key is shared with nobody: a fresh
 * random one per process, and so is everything it is asked to share (claimShared).
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
  const shared = new Map<string, string>();
  return {
    store,
    rateLimits:
      options.rateLimits === undefined ? undefined : createMemoryRateLimits({ clock, policies: options.rateLimits }),
    sharedKey: options.random.bytes(32),
    async claimShared(name, create) {
      const stored = shared.get(name);
      if (stored !== undefined) return stored;
      const candidate = await create();
      // Another caller may have stored one while this one was creating: the first stored wins.
      // No await between this read and the write below.
      const kept = shared.get(name) ?? candidate;
      shared.set(name, kept);
      return kept;
    },
    oidcStorage: createMemoryOidcStorage({ clock }),
    isUnavailable: () => false,
    checkReady: () => Promise.resolve(),
    close: () => store.close(),
  };
}
