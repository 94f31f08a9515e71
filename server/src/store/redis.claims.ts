import type { Cluster, Redis } from "ioredis";
import type { Scripts } from "./redis.scripts.js";

/**
 * How long a claimed entry stays claimed while what it points to is being written. Long past any
 * request (commands time out within a minute); short enough that a process that died half way
 * frees the name soon. Redis's own clock measures it: it guards against a crash, not a domain
 * deadline, so the injected clock has no say.
 */
const CLAIM_LEASE_MS = 5 * 60_000;

/**
 * Writes records that unique entries elsewhere point to, for an owner: a new account (its
 * username and first passkey id) or a new passkey (its id). The entries are unique across all
 * people, so they live in their own hash slots, not the person's, and no one script can check
 * them and write the records on a Redis Cluster. So it goes in steps:
 *
 * 1. claim each entry in `keys`, in order, for `owner` (SET NX, on a lease);
 * 2. run `write`: the person's records, one script in their slot;
 * 3. confirm the claims (they keep no TTL from then on).
 *
 * A claim that loses gives back the ones made before it, writes nothing, and its key is
 * returned; null means written. Readers go from an entry to the person's slot, so until the
 * records exist the entry reads as absent, and once they do it reads whole. A process that dies
 * half way leaves only claims that lapse and records nothing points to. If `write` fails its
 * outcome is unknown; the claims are given back, so any records it made stay unreachable.
 */
export async function claimThenWrite(options: {
  redis: Redis | Cluster;
  scripts: Scripts;
  keys: string[];
  owner: string;
  write: () => Promise<unknown>;
}): Promise<string | null> {
  const { redis, scripts, owner } = options;
  const claimed: string[] = [];
  const giveBack = async (): Promise<void> => {
    await Promise.all(claimed.map((key) => scripts.releaseClaim([key], [owner])));
  };
  for (const key of options.keys) {
    if ((await redis.set(key, owner, "PX", CLAIM_LEASE_MS, "NX")) !== "OK") {
      await giveBack();
      return key;
    }
    claimed.push(key);
  }
  try {
    await options.write();
  } catch (error) {
    await Promise.allSettled([giveBack()]);
    throw error;
  }
  const confirmed = await Promise.all(claimed.map((key) => scripts.confirmClaim([key], [owner])));
  if (confirmed.some((result) => result !== 1)) {
    // Only after a stall longer than the lease; the records stand, but nothing may point to them.
    throw new Error(`A claim of ${claimed.join(", ")} lapsed before its records were written`);
  }
  return null;
}
