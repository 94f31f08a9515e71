import { USER_CODE_ALPHABET, USER_CODE_LENGTH } from "@countersign/shared";
import { AppError } from "../app-error.js";
import { cryptoRandom, randomString, randomToken } from "../random.js";
import type { ClientContext, CredentialRecord, LoginRequestRecord, Store, UserRecord } from "../store/store.js";
import type { FakeClock } from "./fake-clock.js";

/*
 * Records and people for unit tests. Building the services themselves is test-services.ts.
 */

/** A computer on one home network. */
export const DESKTOP: ClientContext = {
  ip: "198.51.100.7",
  browser: "Firefox",
  os: "macOS",
  deviceType: "desktop",
  label: "macOS · Firefox",
  place: null,
};

/** A computer somewhere else entirely (another network for limits and push slots). */
export const FAR_DESKTOP: ClientContext = {
  ip: "203.0.113.50",
  browser: "Chrome",
  os: "Windows 11",
  deviceType: "desktop",
  label: "Windows · Chrome",
  place: null,
};

export const PHONE: ClientContext = {
  ip: "198.51.100.7",
  browser: "Chrome",
  os: "Android 14",
  deviceType: "mobile",
  label: "Pixel 8 · Chrome",
  place: null,
};

/**
 * Lets work started by a fake-clock timer (an expiry) finish. The memory store never waits on
 * I/O, so everything it started has settled by the next turn of the event loop; no time passes.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A pending QR request created now, valid 2 minutes, for tests that write records themselves. */
export function loginRequestRecord(options: {
  clock: FakeClock;
  overrides?: Partial<LoginRequestRecord>;
}): LoginRequestRecord {
  const now = options.clock.now();
  return {
    id: randomToken(cryptoRandom, 12),
    status: "pending",
    version: 1,
    createdAt: now,
    expiresAt: now + 120_000,
    retainUntil: now + 20 * 60_000,
    desktopSecretHash: "not-a-real-hash",
    userCode: randomString(cryptoRandom, { alphabet: USER_CODE_ALPHABET, length: USER_CODE_LENGTH }),
    desktop: DESKTOP,
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
    ...options.overrides,
  };
}

/** A person with passkeys (the first one listed is their first), written straight to the store. */
export async function enrolPerson(options: {
  store: Store;
  clock: FakeClock;
  username: string;
  /** Labels of the person's passkeys, one passkey each; default one "Pixel 8 · Chrome". */
  passkeyLabels?: string[];
}): Promise<{ user: UserRecord; passkeys: CredentialRecord[] }> {
  const { store, clock, username } = options;
  const now = clock.now();
  const user: UserRecord = {
    id: `user-${username}`,
    username,
    displayName: username,
    webauthnUserId: `webauthn-${username}`,
    createdAt: now,
  };
  const passkeys = (options.passkeyLabels ?? ["Pixel 8 · Chrome"]).map((label, index): CredentialRecord => ({
    id: `passkey-${username}-${index + 1}`,
    userId: user.id,
    publicKey: "not-a-real-key",
    counter: 0,
    transports: ["internal"],
    deviceType: "multiDevice",
    backedUp: true,
    label,
    createdAt: now + index,
    lastUsedAt: null,
  }));
  const [first, ...more] = passkeys;
  if (first === undefined) throw new Error("enrolPerson needs at least one passkey label.");
  if ((await store.createUserWithCredential({ user, credential: first })) !== "created") {
    throw new Error(`Could not enrol ${username}.`);
  }
  for (const passkey of more) await store.addCredential(passkey);
  return { user, passkeys };
}

/** The AppError `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ rejected: error }),
  );
  if ("resolved" in outcome) {
    throw new Error(`expected an AppError, but it resolved to ${JSON.stringify(outcome.resolved)}`);
  }
  if (!(outcome.rejected instanceof AppError)) throw outcome.rejected;
  return outcome.rejected;
}
