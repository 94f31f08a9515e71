import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from "oidc-provider";
import type { Clock } from "../clock.js";

/**
 * oidc-provider's storage (its `adapter` option, DESIGN §10) over a small backend of our own,
 * in memory or in Redis. The library owns the protocol; this class only translates its calls,
 * following its in-memory adapter (lib/adapters/memory_adapter.js) and example/my_adapter.js:
 *
 * - `find` returns what was stored, with `consumed` (seconds since the epoch) once consumed, even
 *   past the payload's `exp`: the library checks expiry itself, often with `ignoreExpiration`,
 *   to answer `expired_token` rather than `invalid_grant` (a device code polled after its time).
 *   So each record is kept `graceSeconds` past its `expiresIn`, then reads as absent.
 * - Sessions are found by `uid`, device codes by `userCode`; the tokens of one grant
 *   (GRANT_BOUND_MODELS) are all removed by `revokeByGrantId`, whichever model it is called on.
 * - Grants are also listed by `accountId` (ACCOUNT_LISTED_MODELS), which the library never asks
 *   for: the phone's "Apps you signed in to" (oidc.apps.ts) reads them from the storage.
 * - `consume` is atomic: of any number of racing calls on one record exactly one resolves; the
 *   others reject with the error the library would have answered had it seen `consumed` first
 *   (it checks, then consumes, so without this two racing token requests could both redeem a
 *   code). A consumed record stays consumed when the library saves an older copy of it again.
 */

/** A model's payload as stored, without `consumed` (kept apart, see OidcRecord). */
export type OidcPayload = Record<string, unknown>;

export interface OidcRecord {
  payload: OidcPayload;
  /** When it was consumed, in seconds since the epoch (the library's unit); null if it was not. */
  consumedAt: number | null;
}

/** A record as a listing returns it: with its id, which a lookup by id already knows. */
export interface OidcListedRecord extends OidcRecord {
  id: string;
}

/** The lookups other than by id: a Session by its `uid`, a DeviceCode by its `userCode`. */
export type OidcIndex = "uid" | "userCode";

export interface OidcRecordWrite {
  /** The oidc-provider model name ("AccessToken", "Session", …): letters only. */
  model: string;
  id: string;
  payload: OidcPayload;
  /** How long from now to keep it (its lifetime plus the grace); null keeps it until destroyed. */
  ttlMs: number | null;
  /** Stored unless the record being replaced is live and already consumed (that one is kept). */
  consumedAt: number | null;
  uid: string | null;
  userCode: string | null;
  /** Set for the models revokeByGrantId removes; null for every other. */
  grantId: string | null;
  /** Set for the models listed by account (ACCOUNT_LISTED_MODELS); null for every other. */
  accountId: string | null;
}

export type OidcConsumeOutcome = "consumed" | "already_consumed" | "not_found";

/**
 * What the adapter needs from storage (STYLE: the consumer owns the interface). Every
 * implementation passes tests/src/oidc/oidc-adapter-contract.ts. A record whose ttl has passed
 * on the implementation's clock reads as absent everywhere, and so do its index entries.
 */
export interface OidcStorage {
  /** Writes the record whole, replacing the one with its model and id, and moves its index entries. */
  upsert(record: OidcRecordWrite): Promise<void>;
  find(key: { model: string; id: string }): Promise<OidcRecord | null>;
  /** The live record of `model` whose `index` field is `value`, or null. */
  findByIndex(lookup: { model: string; index: OidcIndex; value: string }): Promise<OidcRecord | null>;
  /** Sets consumedAt to `at` if the record is live and not yet consumed; atomic. */
  consume(options: { model: string; id: string; at: number }): Promise<OidcConsumeOutcome>;
  /** Removes the record and its index entries; nothing if it is absent. */
  destroy(key: { model: string; id: string }): Promise<void>;
  /** Removes every record written with this grantId, of any model, and nothing else. */
  revokeByGrantId(grantId: string): Promise<void>;
  /**
   * The live records of `model` last written with this accountId, in no particular order: those
   * whose ttl has passed are left out, and so are those destroyed or revoked.
   */
  listByAccount(lookup: { model: string; accountId: string }): Promise<OidcListedRecord[]>;
}

/**
 * How long a record outlives its `expiresIn`. It must be at least the provider's
 * `clockTolerance` (15 s by default), for which the library still treats a record as valid, and
 * long enough for a device or CIBA client polling every few seconds to hear `expired_token`.
 */
export const DEFAULT_OIDC_GRACE_SECONDS = 60;

/** The models whose records carry the grant they were issued under (as memory_adapter.js). */
export const GRANT_BOUND_MODELS: ReadonlySet<string> = new Set([
  "AccessToken",
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
  "PreAuthorizedCode",
]);

/** The models whose records are listed by the account they were granted by. */
export const ACCOUNT_LISTED_MODELS: ReadonlySet<string> = new Set(["Grant"]);

/**
 * The provider's `adapter` option: a class the library instantiates once per model name.
 *
 * @param options.storage where the records live (memory or Redis).
 * @param options.clock the time `consumed` is stamped with.
 * @param options.graceSeconds how long records outlive their `expiresIn`; default
 *   DEFAULT_OIDC_GRACE_SECONDS. Must be at least the provider's clockTolerance.
 */
export function createOidcAdapterFactory(options: {
  storage: OidcStorage;
  clock: Clock;
  graceSeconds?: number;
}): AdapterConstructor {
  const { storage, clock } = options;
  const graceSeconds = options.graceSeconds ?? DEFAULT_OIDC_GRACE_SECONDS;
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
    throw new TypeError(`graceSeconds must be a finite number of seconds from 0, got ${String(graceSeconds)}`);
  }

  return class OidcAdapter implements Adapter {
    readonly #model: string;

    constructor(model: string) {
      if (typeof model !== "string" || !/^[A-Za-z]+$/.test(model)) {
        throw new TypeError(`An oidc-provider model name is letters only, got ${JSON.stringify(model)}`);
      }
      this.#model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      assertId(id, "id");
      if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
        throw new TypeError(`upsert needs a payload object, got ${describeValue(payload)}`);
      }
      if (expiresIn !== undefined && !Number.isFinite(expiresIn)) {
        throw new TypeError(`expiresIn must be a number of seconds or undefined, got ${String(expiresIn)}`);
      }
      const { consumed, ...rest } = payload as OidcPayload;
      if (consumed !== undefined && (typeof consumed !== "number" || !Number.isFinite(consumed))) {
        throw new TypeError(
          `consumed must be a timestamp in seconds, as find returns it, got ${describeValue(consumed)}`,
        );
      }
      await storage.upsert({
        model: this.#model,
        id,
        payload: rest,
        ttlMs: expiresIn === undefined ? null : Math.ceil((Math.max(0, expiresIn) + graceSeconds) * 1000),
        consumedAt: consumed ?? null,
        uid: this.#model === "Session" ? indexValue(payload.uid) : null,
        userCode: indexValue(payload.userCode),
        grantId: GRANT_BOUND_MODELS.has(this.#model) ? indexValue(payload.grantId) : null,
        accountId: ACCOUNT_LISTED_MODELS.has(this.#model) ? indexValue(payload.accountId) : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (typeof id !== "string" || id === "") return undefined;
      return toPayload(await storage.find({ model: this.#model, id }));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      if (typeof uid !== "string" || uid === "") return undefined;
      return toPayload(await storage.findByIndex({ model: this.#model, index: "uid", value: uid }));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      if (typeof userCode !== "string" || userCode === "") return undefined;
      return toPayload(await storage.findByIndex({ model: this.#model, index: "userCode", value: userCode }));
    }

    async consume(id: string): Promise<void> {
      assertId(id, "id");
      const at = Math.floor(clock.now() / 1000);
      const outcome = await storage.consume({ model: this.#model, id, at });
      if (outcome === "consumed") return;
      // What the library answers when it finds the record consumed (or gone) before consuming.
      if (this.#model === "PushedAuthorizationRequest") {
        throw new errors.InvalidRequestUri("request_uri is invalid, expired, or was already used");
      }
      const label = this.#model.replace(/(?<=[a-z])(?=[A-Z])/g, " ").toLowerCase();
      throw new errors.InvalidGrant(`${label} ${outcome === "not_found" ? "not found" : "already consumed"}`);
    }

    async destroy(id: string): Promise<void> {
      assertId(id, "id");
      await storage.destroy({ model: this.#model, id });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      assertId(grantId, "grantId");
      await storage.revokeByGrantId(grantId);
    }
  };
}

function toPayload(record: OidcRecord | null): AdapterPayload | undefined {
  if (record === null) return undefined;
  const payload = record.consumedAt === null ? record.payload : { ...record.payload, consumed: record.consumedAt };
  return payload as AdapterPayload;
}

function indexValue(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function assertId(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string, got ${describeValue(value)}`);
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}
