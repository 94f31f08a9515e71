import { isLoginExpiredAt, transitionLoginStatus, type LoginEvent } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { LoginRequestRecord, Store } from "../store/store.js";
import type { LoginRequestEvents } from "./login-request.events.js";

/** A compare-and-set loses only to another writer; a few tries settle any real race. */
const MAX_CAS_ATTEMPTS = 5;

export interface LoginRequestTransitions {
  /**
   * THE way a request changes (STYLE: one place serialises changes): loads it, lets time run
   * out first (the machine's "expire"), applies `event` through the shared state machine,
   * writes with compare-and-set, re-reads and re-decides when another writer won, and publishes
   * the change. The loser of a race gets 409 (LOGIN_CONFLICT), or 410 if time ran out.
   */
  apply(options: {
    /** The request as the caller last read it (saves a read), or just its id. */
    request: LoginRequestRecord | string;
    event: LoginEvent;
    /** Fields that change with the status; called again on every retry with the fresh request. */
    change?: (current: LoginRequestRecord) => Partial<LoginRequestRecord>;
    /** Writes `next` over `current` atomically; defaults to the store's compare-and-set. */
    commit?: (current: LoginRequestRecord, next: LoginRequestRecord) => Promise<boolean>;
    actorUserId?: string | null;
  }): Promise<LoginRequestRecord>;
  /** Writes `expired` if the request's time is up; safe to call any number of times. */
  expireIfDue(id: string): Promise<LoginRequestRecord | null>;
  /** Stores a new request and announces it; "conflict" if its id or user code is taken. */
  create(request: LoginRequestRecord): Promise<"created" | "conflict">;
}

export function createLoginRequestTransitions(deps: {
  store: Store;
  clock: Clock;
  events: LoginRequestEvents;
}): LoginRequestTransitions {
  const { store, clock, events } = deps;

  const compareAndSet = (current: LoginRequestRecord, next: LoginRequestRecord): Promise<boolean> =>
    store.compareAndSetLoginRequest({ expectedVersion: current.version, next });

  async function load(request: LoginRequestRecord | string): Promise<LoginRequestRecord> {
    if (typeof request !== "string") return request;
    const found = await store.getLoginRequest(request);
    if (found === null) throw notFoundError();
    return found;
  }

  /** One attempt: the next version of `current` under `event`, or the reason there is none. */
  function decide(
    current: LoginRequestRecord,
    event: LoginEvent,
    change: (current: LoginRequestRecord) => Partial<LoginRequestRecord>,
  ): LoginRequestRecord | AppError {
    const result = transitionLoginStatus(current.status, event);
    if (!result.ok) return conflictError(current);
    // Every end but a redeem is decided now; an approval sets its own time (and redeem keeps it).
    const decidedNow = result.to !== "scanned" && result.to !== "approved" && result.to !== "redeemed";
    return {
      ...current,
      ...(decidedNow ? { decidedAt: clock.now() } : {}),
      ...change(current),
      status: result.to,
      version: current.version + 1,
    };
  }

  /** The loop behind `apply`: says whether time ran out instead of `event` happening. */
  async function write(
    options: Parameters<LoginRequestTransitions["apply"]>[0],
  ): Promise<{ written: LoginRequestRecord; expiredInstead: boolean }> {
    const change = options.change ?? (() => ({}));
    const commit = options.commit ?? compareAndSet;
    let current = await load(options.request);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
      // Time runs out before anything else happens: an expired request only ever expires.
      const expiring = isLoginExpiredAt(current, clock.now());
      const next = expiring ? decide(current, "expire", () => ({})) : decide(current, options.event, change);
      if (next instanceof AppError) throw next;
      if (await (expiring ? compareAndSet : commit)(current, next)) {
        const actorUserId = expiring ? null : (options.actorUserId ?? null);
        await events.publish({ before: current, after: next, actorUserId });
        return { written: next, expiredInstead: expiring };
      }
      const fresh = await store.getLoginRequest(current.id);
      if (fresh === null) throw notFoundError();
      current = fresh;
    }
    throw new AppError("LOGIN_CONFLICT", "This sign-in request is changing too fast; try again.");
  }

  async function apply(options: Parameters<LoginRequestTransitions["apply"]>[0]): Promise<LoginRequestRecord> {
    const { written, expiredInstead } = await write(options);
    if (expiredInstead && options.event !== "expire") throw expiredError();
    return written;
  }

  return {
    apply,

    async expireIfDue(id) {
      const request = await store.getLoginRequest(id);
      if (request === null || !isLoginExpiredAt(request, clock.now())) return request;
      try {
        return (await write({ request, event: "expire" })).written;
      } catch (error) {
        // Another writer got there first (most likely the same expiry): the store says how it ended.
        if (!(error instanceof AppError)) throw error;
        return store.getLoginRequest(id);
      }
    },

    async create(request) {
      const created = await store.createLoginRequest(request);
      if (created === "created") await events.publish({ before: null, after: request, actorUserId: null });
      return created;
    },
  };
}

export function notFoundError(): AppError {
  return new AppError("LOGIN_NOT_FOUND", "No such sign-in request, or it is not yours.");
}

export function expiredError(): AppError {
  return new AppError("LOGIN_EXPIRED", "This sign-in request expired. Start a new one on the computer.");
}

export function conflictError(request: LoginRequestRecord): AppError {
  if (request.status === "expired") return expiredError();
  if (request.status === "pending" || request.status === "scanned") {
    return new AppError("LOGIN_CONFLICT", `This sign-in request is not ready for that; it is ${request.status}.`);
  }
  return new AppError("LOGIN_CONFLICT", `This sign-in request is already ${request.status}.`);
}
