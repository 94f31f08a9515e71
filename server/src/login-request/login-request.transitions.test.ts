import {
  LOGIN_EVENTS,
  LOGIN_STATUSES,
  REDEEM_WINDOW_MS,
  TERMINAL_STATUSES,
  transitionLoginStatus,
  type LoginStatus,
} from "@countersign/shared";
import { describe, expect, it, vi } from "vitest";
import { createEventChannel } from "../events/event-channel.js";
import { createMemoryStore } from "../store/memory.store.js";
import type { LoginRequestRecord, Store } from "../store/store.js";
import { createFakeClock, type FakeClock } from "../testing/fake-clock.js";
import { appErrorOf, loginRequestRecord, PHONE } from "../testing/fixtures.js";
import type { LoginRequestChanged } from "./login-request.events.js";
import { createLoginRequestTransitions, type LoginRequestTransitions } from "./login-request.transitions.js";

const OTHER_PHONE = { ...PHONE, ip: "192.0.2.44", label: "iPhone · Safari", browser: "Safari", os: "iOS 18" };

interface SetUp {
  clock: FakeClock;
  /** The memory store underneath any wrapper: what is really stored. */
  memory: Store;
  transitions: LoginRequestTransitions;
  published: LoginRequestChanged[];
}

function setUp(options: { clock?: FakeClock; wrapStore?: (store: Store) => Store } = {}): SetUp {
  const clock = options.clock ?? createFakeClock();
  const memory = createMemoryStore({ clock });
  const events = createEventChannel<LoginRequestChanged>();
  const published: LoginRequestChanged[] = [];
  events.subscribe((event) => void published.push(event));
  const transitions = createLoginRequestTransitions({ store: options.wrapStore?.(memory) ?? memory, clock, events });
  return { clock, memory, transitions, published };
}

/** A request in `status`, with the fields that status implies, stored directly (no event). */
async function storedIn(setup: SetUp, status: LoginStatus): Promise<LoginRequestRecord> {
  const now = setup.clock.now();
  const scanned = { scannedAt: now, scannedBy: PHONE };
  const approved = {
    ...scanned,
    decidedAt: now,
    approvedAt: now,
    redeemBy: now + REDEEM_WINDOW_MS,
    userId: "user-ada",
    credentialId: "passkey-ada-1",
    approver: PHONE,
  };
  const fields: Record<LoginStatus, Partial<LoginRequestRecord>> = {
    pending: {},
    scanned,
    approved,
    redeemed: approved,
    denied: { ...scanned, decidedAt: now, approver: PHONE, denyReason: "cancelled" },
    expired: { decidedAt: now },
    cancelled: { decidedAt: now },
    superseded: { decidedAt: now },
  };
  const request = loginRequestRecord({ clock: setup.clock, overrides: { ...fields[status], status } });
  expect(await setup.memory.createLoginRequest(request)).toBe("created");
  return request;
}

/** A store whose compare-and-set lets `interloper` write first, for the first `times` calls. */
function losingRaces(options: {
  times: number;
  interloper: (memory: Store, current: LoginRequestRecord) => Promise<void>;
  calls: { count: number };
}): (memory: Store) => Store {
  return (memory) => ({
    ...memory,
    async compareAndSetLoginRequest(args) {
      options.calls.count += 1;
      if (options.calls.count > options.times) return memory.compareAndSetLoginRequest(args);
      const current = await memory.getLoginRequest(args.next.id);
      if (current === null) throw new Error("the request vanished");
      await options.interloper(memory, current);
      return memory.compareAndSetLoginRequest(args);
    },
  });
}

describe("create", () => {
  it("stores a new request and announces it with before = null and no actor", async () => {
    const setup = setUp();
    const request = loginRequestRecord({ clock: setup.clock });
    expect(await setup.transitions.create(request)).toBe("created");
    expect(await setup.memory.getLoginRequest(request.id)).toEqual(request);
    expect(setup.published).toEqual([{ before: null, after: request, actorUserId: null }]);
  });

  it("announces nothing and overwrites nothing when the id is taken", async () => {
    const setup = setUp();
    const first = loginRequestRecord({ clock: setup.clock });
    await setup.transitions.create(first);
    const clash = loginRequestRecord({ clock: setup.clock, overrides: { id: first.id } });
    expect(await setup.transitions.create(clash)).toBe("conflict");
    expect(await setup.memory.getLoginRequest(first.id)).toEqual(first);
    expect(setup.published).toHaveLength(1);
  });
});

describe("apply: every change goes through the shared state machine", () => {
  const pairs = LOGIN_STATUSES.flatMap((status) => LOGIN_EVENTS.map((event) => ({ status, event })));

  it.each(pairs.filter(({ status, event }) => transitionLoginStatus(status, event).ok))(
    "$status + $event: writes the machine's next status as version 2 and announces it with the actor",
    async ({ status, event }) => {
      const setup = setUp();
      const before = await storedIn(setup, status);
      const after = await setup.transitions.apply({ request: before.id, event, actorUserId: "user-ada" });
      const to = transitionLoginStatus(status, event);
      expect(to.ok && after.status).toBe(to.ok && to.to);
      expect(after.version).toBe(2);
      expect(await setup.memory.getLoginRequest(before.id)).toEqual(after);
      expect(setup.published).toEqual([{ before, after, actorUserId: "user-ada" }]);
    },
  );

  it.each(pairs.filter(({ status, event }) => !transitionLoginStatus(status, event).ok && status !== "expired"))(
    "$status + $event: refused with LOGIN_CONFLICT naming $status; nothing written or announced",
    async ({ status, event }) => {
      const setup = setUp();
      const before = await storedIn(setup, status);
      const refused = await appErrorOf(setup.transitions.apply({ request: before.id, event }));
      expect(refused.code).toBe("LOGIN_CONFLICT");
      expect(refused.message).toBe(
        status === "pending" || status === "scanned"
          ? `This sign-in request is not ready for that; it is ${status}.`
          : `This sign-in request is already ${status}.`,
      );
      expect(await setup.memory.getLoginRequest(before.id)).toEqual(before);
      expect(setup.published).toEqual([]);
    },
  );

  it.each(LOGIN_EVENTS)("expired + %s: refused with LOGIN_EXPIRED; it stays expired", async (event) => {
    const setup = setUp();
    const before = await storedIn(setup, "expired");
    expect((await appErrorOf(setup.transitions.apply({ request: before.id, event }))).code).toBe("LOGIN_EXPIRED");
    expect(await setup.memory.getLoginRequest(before.id)).toEqual(before);
    expect(setup.published).toEqual([]);
  });

  it("keeps every terminal status terminal: no event moves it", async () => {
    for (const status of TERMINAL_STATUSES) {
      const setup = setUp();
      const before = await storedIn(setup, status);
      for (const event of LOGIN_EVENTS) {
        await appErrorOf(setup.transitions.apply({ request: before.id, event }));
      }
      expect((await setup.memory.getLoginRequest(before.id))?.status).toBe(status);
    }
  });

  it("stamps decidedAt on a decision (deny, cancel, supersede) but not on a scan", async () => {
    const setup = setUp();
    const request = await storedIn(setup, "pending");
    setup.clock.advance(5_000);
    const scanned = await setup.transitions.apply({ request: request.id, event: "scan" });
    expect(scanned.decidedAt).toBeNull();
    setup.clock.advance(5_000);
    const denied = await setup.transitions.apply({ request: scanned, event: "deny" });
    expect(denied.decidedAt).toBe(setup.clock.now());
  });

  it("takes the fields `change` gives, but never a status or version from it", async () => {
    const setup = setUp();
    const request = await storedIn(setup, "pending");
    const scanned = await setup.transitions.apply({
      request,
      event: "scan",
      change: () => ({ scannedBy: PHONE, status: "redeemed", version: 99 }),
    });
    expect(scanned).toMatchObject({ status: "scanned", version: 2, scannedBy: PHONE });
  });

  it("answers LOGIN_NOT_FOUND for an id the store does not hold", async () => {
    const setup = setUp();
    expect((await appErrorOf(setup.transitions.apply({ request: "no-such-id", event: "scan" }))).code).toBe(
      "LOGIN_NOT_FOUND",
    );
  });

  it("approves a scanned request (the passkey part is the integration tests'), never a pending one", async () => {
    const setup = setUp();
    const pending = await storedIn(setup, "pending");
    const refused = await appErrorOf(setup.transitions.apply({ request: pending.id, event: "approve" }));
    expect(refused.code).toBe("LOGIN_CONFLICT");

    const scanned = await setup.transitions.apply({ request: pending.id, event: "scan" });
    const now = setup.clock.now();
    const approved = await setup.transitions.apply({
      request: scanned,
      event: "approve",
      change: () => ({ approvedAt: now, redeemBy: now + REDEEM_WINDOW_MS, userId: "user-ada" }),
      actorUserId: "user-ada",
    });
    expect(approved).toMatchObject({ status: "approved", version: 3, redeemBy: now + REDEEM_WINDOW_MS });
    expect(setup.published.at(-1)).toEqual({ before: scanned, after: approved, actorUserId: "user-ada" });
  });
});

describe("apply: time runs out before anything else happens", () => {
  it("writes `expired` instead of the event on a request past expiresAt, announces it as no one's, and throws LOGIN_EXPIRED", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "pending");
    setup.clock.advance(before.expiresAt - setup.clock.now());

    const refused = await appErrorOf(
      setup.transitions.apply({ request: before, event: "scan", actorUserId: "user-ada" }),
    );
    expect(refused.code).toBe("LOGIN_EXPIRED");
    const stored = await setup.memory.getLoginRequest(before.id);
    expect(stored).toMatchObject({ status: "expired", version: 2, decidedAt: before.expiresAt, scannedBy: null });
    expect(setup.published).toEqual([{ before, after: stored, actorUserId: null }]);
  });

  it("still lets the event happen one millisecond before expiresAt", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "pending");
    setup.clock.advance(before.expiresAt - setup.clock.now() - 1);
    expect((await setup.transitions.apply({ request: before, event: "scan" })).status).toBe("scanned");
  });

  it("expires an approved request once redeemBy has passed, without calling the caller's commit", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "approved");
    setup.clock.advance(REDEEM_WINDOW_MS);
    const commit = vi.fn(async () => true);

    const refused = await appErrorOf(setup.transitions.apply({ request: before, event: "redeem", commit }));
    expect(refused.code).toBe("LOGIN_EXPIRED");
    expect(commit).not.toHaveBeenCalled();
    expect((await setup.memory.getLoginRequest(before.id))?.status).toBe("expired");
    expect(setup.published.map(({ after }) => after.status)).toEqual(["expired"]);
  });

  it("returns the expired request, without throwing, when the event asked for was the expiry", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "scanned");
    setup.clock.advance(before.expiresAt - setup.clock.now());
    expect((await setup.transitions.apply({ request: before.id, event: "expire" })).status).toBe("expired");
  });
});

describe("apply: compare-and-set against other writers", () => {
  it("re-reads and re-decides after losing to another writer: a cancel that lost to a deny is a conflict naming denied", async () => {
    const calls = { count: 0 };
    const setup = setUp({
      wrapStore: losingRaces({
        times: 1,
        calls,
        interloper: async (memory, current) => {
          const next = {
            ...current,
            status: "denied" as const,
            denyReason: "not_me" as const,
            version: current.version + 1,
          };
          expect(await memory.compareAndSetLoginRequest({ expectedVersion: current.version, next })).toBe(true);
        },
      }),
    });
    const before = await storedIn(setup, "scanned");

    const refused = await appErrorOf(setup.transitions.apply({ request: before, event: "cancel" }));
    expect(refused.code).toBe("LOGIN_CONFLICT");
    expect(refused.message).toContain("denied");
    expect(calls.count).toBe(1);
    expect((await setup.memory.getLoginRequest(before.id))?.status).toBe("denied");
    expect(setup.published).toEqual([]);
  });

  it("re-applies `change` to the fresh request after losing a race: the first phone to scan stays the one shown", async () => {
    const calls = { count: 0 };
    const setup = setUp({
      wrapStore: losingRaces({
        times: 1,
        calls,
        interloper: async (memory, current) => {
          const next = { ...current, status: "scanned" as const, scannedBy: OTHER_PHONE, version: current.version + 1 };
          expect(await memory.compareAndSetLoginRequest({ expectedVersion: current.version, next })).toBe(true);
        },
      }),
    });
    const before = await storedIn(setup, "pending");
    const seen: number[] = [];

    const scanned = await setup.transitions.apply({
      request: before,
      event: "scan",
      change: (current) => {
        seen.push(current.version);
        return { scannedBy: current.scannedBy ?? PHONE };
      },
      actorUserId: "user-ada",
    });
    expect(seen).toEqual([1, 2]);
    expect(scanned).toMatchObject({ status: "scanned", version: 3, scannedBy: OTHER_PHONE });
    // Announced against what it really replaced (the other writer's version), not the stale read.
    expect(setup.published).toHaveLength(1);
    expect(setup.published[0]?.before).toMatchObject({ version: 2, scannedBy: OTHER_PHONE });
    expect(setup.published[0]?.after).toEqual(scanned);
  });

  it("re-decides with expiry first after losing a race that took it past its time", async () => {
    const clock = createFakeClock();
    const setup = setUp({
      clock,
      wrapStore: losingRaces({
        times: 1,
        calls: { count: 0 },
        interloper: async (memory, current) => {
          const next = { ...current, status: "scanned" as const, version: current.version + 1 };
          await memory.compareAndSetLoginRequest({ expectedVersion: current.version, next });
          clock.advance(current.expiresAt - clock.now());
        },
      }),
    });
    const before = await storedIn(setup, "pending");
    expect((await appErrorOf(setup.transitions.apply({ request: before, event: "scan" }))).code).toBe("LOGIN_EXPIRED");
    expect(await setup.memory.getLoginRequest(before.id)).toMatchObject({ status: "expired", version: 3 });
  });

  it("gives up after 5 lost races with LOGIN_CONFLICT (changing too fast), having written and announced nothing", async () => {
    const calls = { count: 0 };
    const setup = setUp({
      wrapStore: losingRaces({
        times: Number.POSITIVE_INFINITY,
        calls,
        interloper: async (memory, current) => {
          const next = { ...current, status: "scanned" as const, version: current.version + 1 };
          await memory.compareAndSetLoginRequest({ expectedVersion: current.version, next });
        },
      }),
    });
    const before = await storedIn(setup, "scanned");

    const refused = await appErrorOf(setup.transitions.apply({ request: before, event: "deny" }));
    expect(refused.code).toBe("LOGIN_CONFLICT");
    expect(refused.message).toContain("changing too fast");
    expect(calls.count).toBe(5);
    expect((await setup.memory.getLoginRequest(before.id))?.status).toBe("scanned");
    expect(setup.published).toEqual([]);
  });

  it("retries through the caller's commit too, and announces only the write that won", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "approved");
    let attempts = 0;
    const redeemed = await setup.transitions.apply({
      request: before,
      event: "redeem",
      commit: async (current, next) => {
        attempts += 1;
        // The first attempt loses: someone bumped the version under it (a re-read is needed).
        if (attempts === 1) {
          await setup.memory.compareAndSetLoginRequest({
            expectedVersion: current.version,
            next: { ...current, version: current.version + 1 },
          });
          return false;
        }
        return setup.memory.compareAndSetLoginRequest({ expectedVersion: current.version, next });
      },
    });
    expect(attempts).toBe(2);
    expect(redeemed).toMatchObject({ status: "redeemed", version: 3 });
    expect(setup.published.map(({ after }) => after.version)).toEqual([3]);
  });

  it("answers LOGIN_NOT_FOUND when the request vanished between the lost race and the re-read", async () => {
    const setup = setUp({
      wrapStore: (memory) => ({
        ...memory,
        compareAndSetLoginRequest: async () => false,
        getLoginRequest: async () => null,
      }),
    });
    const before = await storedIn(setup, "pending");
    expect((await appErrorOf(setup.transitions.apply({ request: before, event: "scan" }))).code).toBe(
      "LOGIN_NOT_FOUND",
    );
  });
});

describe("expireIfDue", () => {
  it("writes `expired` once and announces it once, however often (and however concurrently) it is called", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "scanned");
    setup.clock.advance(before.expiresAt - setup.clock.now());
    const writes = vi.spyOn(setup.memory, "compareAndSetLoginRequest");

    const answers = await Promise.all([
      setup.transitions.expireIfDue(before.id),
      setup.transitions.expireIfDue(before.id),
    ]);
    // Both concurrent calls reached the compare-and-set; one won.
    expect(await Promise.all(writes.mock.results.map(({ value }) => value))).toEqual([true, false]);
    answers.push(await setup.transitions.expireIfDue(before.id));
    for (const answer of answers) expect(answer).toMatchObject({ status: "expired", version: 2 });
    expect(setup.published).toHaveLength(1);
    expect(setup.published[0]).toMatchObject({ before, after: { status: "expired" }, actorUserId: null });
  });

  it("leaves a request alone before its time and announces nothing", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "pending");
    setup.clock.advance(before.expiresAt - setup.clock.now() - 1);
    expect(await setup.transitions.expireIfDue(before.id)).toEqual(before);
    expect(setup.published).toEqual([]);
  });

  it("leaves a decided request decided, even long past its time", async () => {
    const setup = setUp();
    const before = await storedIn(setup, "denied");
    setup.clock.advance(before.expiresAt - setup.clock.now() + 60_000);
    expect(await setup.transitions.expireIfDue(before.id)).toEqual(before);
    expect(setup.published).toEqual([]);
  });

  it("answers null for an unknown id", async () => {
    const setup = setUp();
    expect(await setup.transitions.expireIfDue("no-such-id")).toBeNull();
  });
});
