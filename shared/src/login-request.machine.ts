/**
 * The login-request state machine (DESIGN §2). Pure: no clock, no store. The server applies
 * the result as a compare-and-set, so the machine decides what may happen and the store
 * decides who got there first.
 */
export const LOGIN_STATUSES = [
  "pending",
  "scanned",
  "approved",
  "redeemed",
  "denied",
  "expired",
  "cancelled",
  "superseded",
] as const;

export type LoginStatus = (typeof LOGIN_STATUSES)[number];

export const LOGIN_EVENTS = ["scan", "approve", "deny", "cancel", "redeem", "expire", "supersede"] as const;

export type LoginEvent = (typeof LOGIN_EVENTS)[number];

export const TERMINAL_STATUSES: ReadonlySet<LoginStatus> = new Set([
  "redeemed",
  "denied",
  "expired",
  "cancelled",
  "superseded",
]);

const TRANSITIONS: Record<LoginStatus, Partial<Record<LoginEvent, LoginStatus>>> = {
  pending: {
    scan: "scanned",
    deny: "denied",
    cancel: "cancelled",
    expire: "expired",
    supersede: "superseded",
  },
  // Re-scanning is allowed so a phone that reloads the review screen sees it again.
  scanned: {
    scan: "scanned",
    approve: "approved",
    deny: "denied",
    cancel: "cancelled",
    expire: "expired",
    supersede: "superseded",
  },
  // An approved request waits for the desktop to redeem it; if it never does, it expires.
  approved: { redeem: "redeemed", expire: "expired" },
  redeemed: {},
  denied: {},
  expired: {},
  cancelled: {},
  superseded: {},
};

export type TransitionResult = { ok: true; to: LoginStatus } | { ok: false; reason: "terminal" | "not_allowed" };

/** What `event` does to a request in `from`; never throws. */
export function transitionLoginStatus(from: LoginStatus, event: LoginEvent): TransitionResult {
  const to = TRANSITIONS[from][event];
  if (to !== undefined) return { ok: true, to };
  return { ok: false, reason: TERMINAL_STATUSES.has(from) ? "terminal" : "not_allowed" };
}

export function isTerminalStatus(status: LoginStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** The statuses from which `event` is allowed: what a compare-and-set must expect. */
export function statusesAllowing(event: LoginEvent): LoginStatus[] {
  return LOGIN_STATUSES.filter((status) => TRANSITIONS[status][event] !== undefined);
}

export interface ExpiryTimes {
  status: LoginStatus;
  expiresAt: number;
  /** Set once approved: the desktop must redeem before this instant. */
  redeemBy?: number | null | undefined;
}

/**
 * Whether a request has run out of time at `now`. Expiry is a fact of the clock, so every
 * read derives it instead of trusting that a timer already wrote it.
 */
export function isLoginExpiredAt(request: ExpiryTimes, now: number): boolean {
  if (request.status === "pending" || request.status === "scanned") return now >= request.expiresAt;
  if (request.status === "approved") return request.redeemBy != null && now >= request.redeemBy;
  return false;
}
