import { describe, expect, it } from "vitest";
import {
  isLoginExpiredAt,
  LOGIN_EVENTS,
  LOGIN_STATUSES,
  type LoginEvent,
  type LoginStatus,
  statusesAllowing,
  transitionLoginStatus,
} from "./login-request.machine.js";

// The expected table is written out by hand from DESIGN §2 so the test is a second opinion,
// not a copy of the implementation. "-" means the event is refused.
const EXPECTED: Record<LoginStatus, Record<LoginEvent, LoginStatus | "-">> = {
  pending: {
    scan: "scanned",
    approve: "-",
    deny: "denied",
    cancel: "cancelled",
    redeem: "-",
    expire: "expired",
    supersede: "superseded",
  },
  scanned: {
    scan: "scanned",
    approve: "approved",
    deny: "denied",
    cancel: "cancelled",
    redeem: "-",
    expire: "expired",
    supersede: "superseded",
  },
  approved: { scan: "-", approve: "-", deny: "-", cancel: "-", redeem: "redeemed", expire: "expired", supersede: "-" },
  redeemed: { scan: "-", approve: "-", deny: "-", cancel: "-", redeem: "-", expire: "-", supersede: "-" },
  denied: { scan: "-", approve: "-", deny: "-", cancel: "-", redeem: "-", expire: "-", supersede: "-" },
  expired: { scan: "-", approve: "-", deny: "-", cancel: "-", redeem: "-", expire: "-", supersede: "-" },
  cancelled: { scan: "-", approve: "-", deny: "-", cancel: "-", redeem: "-", expire: "-", supersede: "-" },
  superseded: { scan: "-", approve: "-", deny: "-", cancel: "-", redeem: "-", expire: "-", supersede: "-" },
};

const TERMINAL: LoginStatus[] = ["redeemed", "denied", "expired", "cancelled", "superseded"];

describe("transitionLoginStatus", () => {
  for (const from of LOGIN_STATUSES) {
    for (const event of LOGIN_EVENTS) {
      const expected = EXPECTED[from][event];
      it(`${from} --${event}--> ${expected === "-" ? "refused" : expected}`, () => {
        const result = transitionLoginStatus(from, event);
        if (expected === "-") {
          expect(result).toEqual({
            ok: false,
            reason: TERMINAL.includes(from) ? "terminal" : "not_allowed",
          });
        } else {
          expect(result).toEqual({ ok: true, to: expected });
        }
      });
    }
  }

  it("never lets approve skip the phone opening the request", () => {
    expect(transitionLoginStatus("pending", "approve").ok).toBe(false);
  });

  it("lists the statuses a compare-and-set must expect for each event", () => {
    expect(statusesAllowing("approve")).toEqual(["scanned"]);
    expect(statusesAllowing("deny")).toEqual(["pending", "scanned"]);
    expect(statusesAllowing("redeem")).toEqual(["approved"]);
    expect(statusesAllowing("expire")).toEqual(["pending", "scanned", "approved"]);
  });
});

describe("isLoginExpiredAt", () => {
  const base = { expiresAt: 1_000, redeemBy: null };

  it("expires pending and scanned requests at expiresAt, not before", () => {
    for (const status of ["pending", "scanned"] as const) {
      expect(isLoginExpiredAt({ ...base, status }, 999)).toBe(false);
      expect(isLoginExpiredAt({ ...base, status }, 1_000)).toBe(true);
    }
  });

  it("expires an approved request at its redeem deadline, whatever expiresAt says", () => {
    const approved = { status: "approved" as const, expiresAt: 1_000, redeemBy: 5_000 };
    expect(isLoginExpiredAt(approved, 4_999)).toBe(false);
    expect(isLoginExpiredAt(approved, 5_000)).toBe(true);
  });

  it("never expires a request that already ended", () => {
    for (const status of TERMINAL) {
      expect(isLoginExpiredAt({ ...base, status }, 10_000)).toBe(false);
    }
  });
});
