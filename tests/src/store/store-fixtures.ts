import type { LoginRequestRecord, SessionRecord } from "@countersign/server";

/** Records for store tests: valid, with every field set, and easy to vary through overrides. */
export const T0 = Date.UTC(2026, 0, 1);

export const context = {
  ip: "127.0.0.1",
  browser: "Chrome",
  os: "macOS",
  deviceType: "desktop" as const,
  label: "macOS · Chrome",
  place: null,
};

export function user(id: string, username: string) {
  return { id, username, displayName: username, webauthnUserId: `wa-${id}`, createdAt: T0 };
}

export function credential(id: string, userId: string) {
  return {
    id,
    userId,
    publicKey: "pk",
    counter: 0,
    transports: ["internal"],
    deviceType: "singleDevice" as const,
    backedUp: false,
    label: "Pixel 8 · Chrome",
    createdAt: T0,
    lastUsedAt: null,
  };
}

export function loginRequest(id: string, overrides: Partial<LoginRequestRecord> = {}): LoginRequestRecord {
  return {
    id,
    status: "pending",
    version: 1,
    createdAt: T0,
    expiresAt: T0 + 120_000,
    retainUntil: T0 + 600_000,
    desktopSecretHash: "hash",
    userCode: `CODE-${id}`,
    desktop: context,
    scannedAt: null,
    scannedBy: null,
    decidedAt: null,
    userId: null,
    credentialId: null,
    approver: null,
    approvedAt: null,
    redeemBy: null,
    denyReason: null,
    push: null,
    app: null,
    oidc: null,
    proximity: null,
    checkNumber: null,
    desktopKey: null,
    ...overrides,
  };
}

export function session(tokenHash: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    tokenHash,
    id: `id-${tokenHash}`,
    kind: "desktop",
    userId: "u1",
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 3_600_000,
    context,
    source: { kind: "enrolment", credentialId: "c1" },
    pushSubscription: null,
    ...overrides,
  };
}
