import { describe, expect, it } from "vitest";
import { createBrowserSessions, type PendingSignIn, type SignedInPerson } from "./relying-party.sessions.js";

const PENDING: PendingSignIn = { state: "s", nonce: "n", codeVerifier: "v" };
const NORA: SignedInPerson = {
  sub: "user-1",
  name: "Nora",
  preferredUsername: "nora",
  acr: "urn:countersign:passkey",
  amr: ["hwk", "mfa"],
  authTime: 1_800_000_000,
};

function fakeClock(): { now: () => number; advance(ms: number): void } {
  let now = 1_000_000;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

describe("browser sessions in memory", () => {
  it("hands a pending sign-in back once, to the token it was started with", () => {
    const sessions = createBrowserSessions();
    const token = sessions.startSignIn(PENDING);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(sessions.takePendingSignIn("another-token-entirely-000000")).toBeNull();
    expect(sessions.takePendingSignIn(null)).toBeNull();
    expect(sessions.takePendingSignIn(token)).toEqual(PENDING);
    expect(sessions.takePendingSignIn(token)).toBeNull();
  });

  it("gives a signed-in person a new token; a pending token is not a signed-in one, nor the reverse", () => {
    const sessions = createBrowserSessions();
    const pending = sessions.startSignIn(PENDING);
    expect(sessions.personOf(pending)).toBeNull();
    const signedIn = sessions.signIn(NORA);
    expect(signedIn).not.toBe(pending);
    expect(sessions.personOf(signedIn)).toEqual(NORA);
    expect(sessions.takePendingSignIn(signedIn)).toBeNull();
    expect(sessions.personOf(signedIn)).toEqual(NORA);
  });

  it("forgets an ended session", () => {
    const sessions = createBrowserSessions();
    const token = sessions.signIn(NORA);
    sessions.end(token);
    expect(sessions.personOf(token)).toBeNull();
  });

  it("expires a pending sign-in and a signed-in session after their lifetimes", () => {
    const clock = fakeClock();
    const sessions = createBrowserSessions({ now: clock.now, pendingTtlMs: 1_000, signedInTtlMs: 5_000 });
    const pending = sessions.startSignIn(PENDING);
    const signedIn = sessions.signIn(NORA);
    clock.advance(999);
    expect(sessions.personOf(signedIn)).toEqual(NORA);
    clock.advance(1);
    expect(sessions.takePendingSignIn(pending)).toBeNull();
    clock.advance(3_999);
    expect(sessions.personOf(signedIn)).toEqual(NORA);
    clock.advance(1);
    expect(sessions.personOf(signedIn)).toBeNull();
  });

  it("sweeps expired entries when writing, and drops the oldest past the limit", () => {
    const clock = fakeClock();
    const sessions = createBrowserSessions({ now: clock.now, pendingTtlMs: 1_000, maxEntries: 3 });
    sessions.startSignIn(PENDING);
    sessions.startSignIn(PENDING);
    clock.advance(1_000);
    const oldest = sessions.startSignIn(PENDING);
    expect(sessions.size()).toBe(1);
    const second = sessions.startSignIn(PENDING);
    const third = sessions.startSignIn(PENDING);
    const fourth = sessions.startSignIn(PENDING);
    expect(sessions.size()).toBe(3);
    expect(sessions.takePendingSignIn(oldest)).toBeNull();
    for (const token of [second, third, fourth]) expect(sessions.takePendingSignIn(token)).toEqual(PENDING);
  });

  it("refuses a limit below one", () => {
    expect(() => createBrowserSessions({ maxEntries: 0 })).toThrow(
      "maxEntries expects a whole number of at least 1, got 0",
    );
  });
});
