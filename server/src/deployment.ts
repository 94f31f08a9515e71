import type { ServerOptions } from "socket.io";
import type { OidcStorage } from "./oidc/oidc.adapter.js";
import type { RateLimits } from "./rate-limit/rate-limits.js";
import type { Store } from "./store/store.js";

/**
 * Where one deployment keeps its state, as the app needs it (STYLE: the consumer owns the
 * interface). Two implementations: memory (store/memory.deployment.ts, one process) and Redis
 * (redis/redis.deployment.ts, any number of processes, one Redis or a Redis Cluster). createApp
 * reads only this; main.ts picks one from the configuration.
 */
export interface Deployment {
  store: Store;
  /** Limits every process counts together; omitted, the app counts in its own process. */
  rateLimits?: RateLimits;
  /** Carries Socket.IO broadcasts to every process; omitted, rooms are this process's only. */
  socketAdapter?: ServerOptions["adapter"];
  /**
   * The key every process behind one origin shares (32 bytes): QR tokens and unknown names'
   * pseudonyms are derived from it, so any process must derive what another one did.
   */
  sharedKey: Uint8Array;
  /**
   * The value under `name`, the same for every process. If there is none yet, `create` makes a
   * candidate and the first one stored wins: processes racing at start may each create one, and
   * all resolve to the winner's. Only a missing value is created, so a process that finds one
   * pays nothing. Never expires, and no claim replaces it: in Redis it outlives restarts until
   * someone deletes it (a key rotation, README); in memory it lives as long as the process. For
   * what every process must agree on, such as the OpenID Provider's signing keys.
   */
  claimShared(name: string, create: () => Promise<string>): Promise<string>;
  /** Where the OpenID Provider keeps its codes, tokens, sessions and grants (oidc/oidc.adapter.ts). */
  oidcStorage: OidcStorage;
  /** Whether an error means the state is unreachable right now (a 503), not a bug (a 500). */
  isUnavailable(error: unknown): boolean;
  /** Resolves if the state answers; /readyz calls it. */
  checkReady(): Promise<void>;
  /** Closes the store and every connection; call after the app has closed. */
  close(): Promise<void>;
}
