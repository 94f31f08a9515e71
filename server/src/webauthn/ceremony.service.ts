import { CEREMONY_ID_BYTES, CEREMONY_TTL_MS } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { randomToken, type Random } from "../random.js";
import type { CeremonyRecord, Store } from "../store/store.js";

type CeremonyKind = CeremonyRecord["kind"];
type CeremonyDetails = DistributiveOmit<CeremonyRecord, "id" | "challenge" | "expiresAt">;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface CeremonyService {
  /** Stores a fresh single-use challenge for one WebAuthn ceremony. */
  startCeremony(details: CeremonyDetails): Promise<CeremonyRecord>;
  /**
   * Like startCeremony, but refuses (RATE_LIMITED) once `group` has `maxLive` ceremonies that
   * have not expired: an anonymous caller cannot fill the store through one request.
   */
  startCappedCeremony(options: { details: CeremonyDetails; group: string; maxLive: number }): Promise<CeremonyRecord>;
  /**
   * Takes the ceremony out of the store before anything is verified, so a failed or replayed
   * attempt can never use the same challenge again (DESIGN §6).
   */
  consumeCeremony<K extends CeremonyKind>(options: {
    id: string;
    kind: K;
  }): Promise<Extract<CeremonyRecord, { kind: K }>>;
}

export function createCeremonyService(deps: { store: Store; clock: Clock; random: Random }): CeremonyService {
  const newCeremony = (details: CeremonyDetails): CeremonyRecord =>
    ({
      ...details,
      id: randomToken(deps.random, CEREMONY_ID_BYTES),
      challenge: randomToken(deps.random, 32),
      expiresAt: deps.clock.now() + CEREMONY_TTL_MS,
    }) as CeremonyRecord;

  return {
    async startCeremony(details) {
      const ceremony = newCeremony(details);
      await deps.store.putCeremony(ceremony);
      return ceremony;
    },
    async startCappedCeremony({ details, group, maxLive }) {
      const ceremony = newCeremony(details);
      if ((await deps.store.putCeremonyInGroup({ ceremony, group, maxLive })) === "group_full") {
        throw new AppError("RATE_LIMITED", "Too many passkey prompts for this sign-in; start a new one.", {
          headers: { "Retry-After": String(Math.ceil(CEREMONY_TTL_MS / 1000)) },
        });
      }
      return ceremony;
    },
    async consumeCeremony({ id, kind }) {
      const ceremony = await deps.store.takeCeremony(id);
      if (ceremony === null || ceremony.kind !== kind) {
        throw new AppError("CEREMONY_NOT_FOUND", "This passkey prompt expired or was already used; start again.");
      }
      return ceremony as Extract<CeremonyRecord, { kind: typeof kind }>;
    },
  };
}
