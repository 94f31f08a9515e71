import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ACTIVITY_LIMIT, type Store } from "@countersign/server";
import { createFakeClock, type FakeClock } from "@countersign/server/testing";
import { credential, loginRequest, session, T0, user } from "./store-fixtures.js";

export interface StoreUnderTest {
  store: Store;
  clock: FakeClock;
  /** Lets the store catch up with the fake clock (a Redis store's TTLs run on Redis's own clock). */
  settle?: () => Promise<void>;
  dispose(): Promise<void>;
}

/**
 * The one behaviour every Store must have (DESIGN §4). Each implementation runs this suite;
 * the server may rely on nothing a store does that is not asserted here.
 */
export function describeStoreContract(name: string, make: (clock: FakeClock) => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    let clock: FakeClock;
    const advance = async (ms: number): Promise<void> => {
      clock.advance(ms);
      await subject.settle?.();
    };

    beforeEach(async () => {
      clock = createFakeClock({ start: T0 });
      subject = await make(clock);
      store = subject.store;
    });

    afterEach(async () => {
      await subject.dispose();
    });

    describe("users and credentials", () => {
      it("creates a user with its first credential and finds both", async () => {
        expect(
          await store.createUserWithCredential({ user: user("u1", "ana"), credential: credential("c1", "u1") }),
        ).toBe("created");
        expect(await store.getUser("u1")).toEqual(user("u1", "ana"));
        expect(await store.findUserByUsername("ana")).toEqual(user("u1", "ana"));
        expect(await store.getCredential("c1")).toEqual(credential("c1", "u1"));
        expect(await store.listCredentials("u1")).toEqual([credential("c1", "u1")]);
      });

      it("keeps unicode usernames apart and exact", async () => {
        await store.createUserWithCredential({ user: user("u1", "zoë"), credential: credential("c1", "u1") });
        await store.createUserWithCredential({ user: user("u2", "zoe"), credential: credential("c2", "u2") });
        await store.createUserWithCredential({ user: user("u3", "山田"), credential: credential("c3", "u3") });
        expect((await store.findUserByUsername("zoë"))?.id).toBe("u1");
        expect((await store.findUserByUsername("zoe"))?.id).toBe("u2");
        expect((await store.findUserByUsername("山田"))?.id).toBe("u3");
      });

      it("refuses a taken username or credential and writes nothing", async () => {
        await store.createUserWithCredential({ user: user("u1", "ana"), credential: credential("c1", "u1") });
        expect(
          await store.createUserWithCredential({ user: user("u2", "ana"), credential: credential("c2", "u2") }),
        ).toBe("username_taken");
        expect(
          await store.createUserWithCredential({ user: user("u3", "bea"), credential: credential("c1", "u3") }),
        ).toBe("credential_taken");
        expect(await store.getUser("u2")).toBeNull();
        expect(await store.getUser("u3")).toBeNull();
        expect(await store.findUserByUsername("bea")).toBeNull();
        expect(await store.getCredential("c2")).toBeNull();
      });

      it("gives exactly one of many racing sign-ups a username", async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            store.createUserWithCredential({
              user: user(`u${index}`, "race"),
              credential: credential(`c${index}`, `u${index}`),
            }),
          ),
        );
        expect(results.filter((result) => result === "created")).toHaveLength(1);
      });

      it("adds credentials and lists them oldest first", async () => {
        await store.createUserWithCredential({ user: user("u1", "ana"), credential: credential("c1", "u1") });
        expect(await store.addCredential({ ...credential("c2", "u1"), createdAt: T0 + 1 })).toBe("added");
        expect(await store.addCredential(credential("c2", "u1"))).toBe("credential_taken");
        expect((await store.listCredentials("u1")).map((item) => item.id)).toEqual(["c1", "c2"]);
      });

      it("removes a passkey but never a user's last one, nor someone else's", async () => {
        await store.createUserWithCredential({ user: user("u1", "ana"), credential: credential("c1", "u1") });
        await store.createUserWithCredential({ user: user("u2", "bea"), credential: credential("c9", "u2") });
        expect(await store.removeCredential({ userId: "u1", credentialId: "c1" })).toBe("last_credential");
        await store.addCredential({ ...credential("c2", "u1"), createdAt: T0 + 1 });
        expect(await store.removeCredential({ userId: "u1", credentialId: "c9" })).toBe("not_found");
        expect(await store.removeCredential({ userId: "u1", credentialId: "nope" })).toBe("not_found");
        expect(await store.removeCredential({ userId: "u1", credentialId: "c1" })).toBe("removed");
        expect(await store.getCredential("c1")).toBeNull();
        expect((await store.listCredentials("u1")).map((item) => item.id)).toEqual(["c2"]);
        expect(await store.removeCredential({ userId: "u1", credentialId: "c2" })).toBe("last_credential");
      });

      it("keeps at least one passkey when two removals race", async () => {
        await store.createUserWithCredential({ user: user("u1", "ana"), credential: credential("c1", "u1") });
        await store.addCredential(credential("c2", "u1"));
        const results = await Promise.all([
          store.removeCredential({ userId: "u1", credentialId: "c1" }),
          store.removeCredential({ userId: "u1", credentialId: "c2" }),
        ]);
        expect(results.sort()).toEqual(["last_credential", "removed"]);
        expect(await store.listCredentials("u1")).toHaveLength(1);
      });

      it("returns null for unknown ids", async () => {
        expect(await store.getUser("nobody")).toBeNull();
        expect(await store.findUserByUsername("nobody")).toBeNull();
        expect(await store.getCredential("nothing")).toBeNull();
        expect(await store.listCredentials("nobody")).toEqual([]);
        expect(await store.getLoginRequest("nothing")).toBeNull();
        expect(await store.findLoginRequestByUserCode("ZZZZZZZZ")).toBeNull();
        expect(await store.getSession("nothing")).toBeNull();
        expect(await store.deleteSession("nothing")).toBeNull();
        expect(await store.takeCeremony("nothing")).toBeNull();
        expect(await store.listActivity("nobody")).toEqual([]);
      });
    });

    describe("signature counters", () => {
      const advanceTo = (counter: number, usedAt: number, id = "c1") =>
        store.advanceCredentialCounter({ id, counter, usedAt });

      beforeEach(async () => {
        await store.createUserWithCredential({ user: user("u1", "ana"), credential: credential("c1", "u1") });
      });

      it("advances to a higher counter and records the use", async () => {
        expect(await advanceTo(5, T0 + 10)).toBe("advanced");
        expect(await store.getCredential("c1")).toMatchObject({ counter: 5, lastUsedAt: T0 + 10 });
        expect(await advanceTo(6, T0 + 20)).toBe("advanced");
        expect(await store.getCredential("c1")).toMatchObject({ counter: 6, lastUsedAt: T0 + 20 });
      });

      it("refuses the same or a lower counter as replayed, and writes nothing", async () => {
        await advanceTo(5, T0 + 10);
        expect(await advanceTo(5, T0 + 20)).toBe("replayed");
        expect(await advanceTo(4, T0 + 30)).toBe("replayed");
        expect(await advanceTo(0, T0 + 40)).toBe("replayed");
        expect(await store.getCredential("c1")).toMatchObject({ counter: 5, lastUsedAt: T0 + 10 });
      });

      it("accepts 0 after 0 (an authenticator without a counter), moving only the last use", async () => {
        expect(await advanceTo(0, T0 + 10)).toBe("advanced");
        expect(await advanceTo(0, T0 + 20)).toBe("advanced");
        expect(await store.getCredential("c1")).toMatchObject({ counter: 0, lastUsedAt: T0 + 20 });
        // A counter that once moved never goes back to meaning "no counter".
        expect(await advanceTo(1, T0 + 30)).toBe("advanced");
        expect(await advanceTo(0, T0 + 40)).toBe("replayed");
      });

      it("never moves the last use backwards", async () => {
        expect(await advanceTo(3, T0 + 50)).toBe("advanced");
        expect(await advanceTo(4, T0 + 10)).toBe("advanced");
        expect(await store.getCredential("c1")).toMatchObject({ counter: 4, lastUsedAt: T0 + 50 });
      });

      it("says not_found for an unknown passkey and creates nothing", async () => {
        expect(await advanceTo(1, T0, "unknown")).toBe("not_found");
        expect(await store.getCredential("unknown")).toBeNull();
      });

      it("lets exactly one of many racing uses with the same counter advance it", async () => {
        const results = await Promise.all(Array.from({ length: 12 }, (_, index) => advanceTo(7, T0 + index)));
        expect(results.filter((result) => result === "advanced")).toHaveLength(1);
        expect(results.filter((result) => result === "replayed")).toHaveLength(11);
        expect((await store.getCredential("c1"))?.counter).toBe(7);
      });

      it("lets racing uses with rising counters each advance at most once, ending at the highest", async () => {
        const results = await Promise.all([3, 1, 2, 3, 1, 2].map((counter, index) => advanceTo(counter, T0 + index)));
        expect(results.filter((result) => result === "advanced").length).toBeGreaterThanOrEqual(1);
        expect(results.filter((result) => result === "advanced").length).toBeLessThanOrEqual(3);
        expect((await store.getCredential("c1"))?.counter).toBe(3);
      });
    });

    describe("ceremonies", () => {
      const ceremony = {
        id: "k1",
        kind: "approval" as const,
        loginRequestId: "l1",
        challenge: "ch",
        expiresAt: T0 + 60_000,
      };

      it("hands a ceremony out once, even to racing takers", async () => {
        await store.putCeremony(ceremony);
        const taken = await Promise.all(Array.from({ length: 10 }, () => store.takeCeremony("k1")));
        expect(taken.filter((item) => item !== null)).toEqual([ceremony]);
      });

      it("forgets a ceremony once it expires", async () => {
        await store.putCeremony(ceremony);
        await advance(60_000);
        expect(await store.takeCeremony("k1")).toBeNull();
      });

      it("caps a group's live ceremonies, even against racing starts, taken ones counting until they lapse", async () => {
        const inGroup = (id: string, expiresAt = T0 + 60_000) =>
          store.putCeremonyInGroup({ ceremony: { ...ceremony, id, expiresAt }, group: "approval:l1", maxLive: 3 });
        const results = await Promise.all(["a", "b", "c", "d", "e"].map((id) => inGroup(id)));
        expect(results.filter((result) => result === "stored")).toHaveLength(3);
        expect(results.filter((result) => result === "group_full")).toHaveLength(2);
        const stored = ["a", "b", "c", "d", "e"].filter((_, index) => results[index] === "stored");
        expect(await store.takeCeremony(stored[0]!)).not.toBeNull();
        expect(await inGroup("f")).toBe("group_full");
        // Another group has its own budget.
        expect(
          await store.putCeremonyInGroup({ ceremony: { ...ceremony, id: "g" }, group: "approval:l2", maxLive: 3 }),
        ).toBe("stored");
        await advance(60_000);
        expect(await inGroup("h", T0 + 120_000)).toBe("stored");
        expect(await store.takeCeremony("h")).toMatchObject({ id: "h" });
      });
    });

    describe("login requests", () => {
      it("creates, finds by id and by user code, and refuses a clash of either", async () => {
        const request = loginRequest("l1");
        expect(await store.createLoginRequest(request)).toBe("created");
        expect(await store.getLoginRequest("l1")).toEqual(request);
        expect(await store.findLoginRequestByUserCode(request.userCode)).toEqual(request);
        expect(await store.createLoginRequest(loginRequest("l1", { userCode: "OTHER234" }))).toBe("conflict");
        expect(await store.createLoginRequest(loginRequest("l2", { userCode: request.userCode }))).toBe("conflict");
        expect(await store.getLoginRequest("l2")).toBeNull();
      });

      it("compare-and-sets on the version: a stale writer loses and changes nothing", async () => {
        await store.createLoginRequest(loginRequest("l1"));
        const scanned = loginRequest("l1", { status: "scanned", version: 2 });
        expect(await store.compareAndSetLoginRequest({ expectedVersion: 1, next: scanned })).toBe(true);
        const stale = loginRequest("l1", { status: "denied", version: 2 });
        expect(await store.compareAndSetLoginRequest({ expectedVersion: 1, next: stale })).toBe(false);
        expect(await store.getLoginRequest("l1")).toEqual(scanned);
        expect(
          await store.compareAndSetLoginRequest({ expectedVersion: 1, next: loginRequest("missing", { version: 2 }) }),
        ).toBe(false);
      });

      it("keeps the proximity verdict written when a phone opened the request", async () => {
        await store.createLoginRequest(loginRequest("l1"));
        expect((await store.getLoginRequest("l1"))?.proximity).toBeNull();
        const proximity = { verdict: "far_away", distanceKm: 15_596, otherCountry: true } as const;
        const opened = loginRequest("l1", { status: "scanned", version: 2, proximity });
        expect(await store.compareAndSetLoginRequest({ expectedVersion: 1, next: opened })).toBe(true);
        expect(await store.getLoginRequest("l1")).toEqual(opened);
      });

      it("lets exactly one of 100 racing transitions of one request win", async () => {
        await store.createLoginRequest(loginRequest("l1"));
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, index) =>
            store.compareAndSetLoginRequest({
              expectedVersion: 1,
              next: loginRequest("l1", {
                status: index % 2 === 0 ? "scanned" : "denied",
                version: 2,
                decidedAt: index,
              }),
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store.getLoginRequest("l1")).toMatchObject({ version: 2, decidedAt: winner });
      });

      it("redeems atomically: the request and the session both change, or neither", async () => {
        await store.createLoginRequest(loginRequest("l1", { status: "approved", version: 3 }));
        const next = loginRequest("l1", { status: "redeemed", version: 4 });
        const stale = loginRequest("l1", { status: "redeemed", version: 3 });
        expect(await store.redeemLoginRequest({ expectedVersion: 2, next: stale, session: session("s-lost") })).toBe(
          false,
        );
        expect(await store.getSession("s-lost")).toBeNull();
        const both = await Promise.all([
          store.redeemLoginRequest({ expectedVersion: 3, next, session: session("s-a") }),
          store.redeemLoginRequest({ expectedVersion: 3, next, session: session("s-b") }),
        ]);
        expect(both.filter(Boolean)).toHaveLength(1);
        const sessions = await Promise.all([store.getSession("s-a"), store.getSession("s-b")]);
        expect(sessions.filter((item) => item !== null)).toHaveLength(1);
        expect((await store.getLoginRequest("l1"))?.status).toBe("redeemed");
      });

      it("forgets a request and its user code after retainUntil", async () => {
        const request = loginRequest("l1");
        await store.createLoginRequest(request);
        await advance(599_999);
        expect(await store.getLoginRequest("l1")).not.toBeNull();
        await advance(1);
        expect(await store.getLoginRequest("l1")).toBeNull();
        expect(await store.findLoginRequestByUserCode(request.userCode)).toBeNull();
        // The code is free again for a new request.
        expect(
          await store.createLoginRequest(
            loginRequest("l2", { userCode: request.userCode, retainUntil: T0 + 1_200_000 }),
          ),
        ).toBe("created");
      });
    });

    describe("sessions", () => {
      it("creates, reads and deletes a session once", async () => {
        await store.createSession(session("s1"));
        expect(await store.getSession("s1")).toEqual(session("s1"));
        expect(await store.deleteSession("s1")).toEqual(session("s1"));
        expect(await store.deleteSession("s1")).toBeNull();
        expect(await store.getSession("s1")).toBeNull();
      });

      it("lists a user's live sessions, oldest first, and only theirs", async () => {
        await store.createSession(session("s2", { createdAt: T0 + 2 }));
        await store.createSession(session("s1", { createdAt: T0 + 1, kind: "approver" }));
        await store.createSession(session("s3", { userId: "u2" }));
        await store.createSession(session("s4", { expiresAt: T0 + 10 }));
        await store.createLoginRequest(loginRequest("l1", { status: "approved", version: 3 }));
        await store.redeemLoginRequest({
          expectedVersion: 3,
          next: loginRequest("l1", { status: "redeemed", version: 4 }),
          session: session("s5", { createdAt: T0 + 3 }),
        });
        await advance(10);
        expect((await store.listSessions("u1")).map((item) => item.tokenHash)).toEqual(["s1", "s2", "s5"]);
        await store.deleteSession("s2");
        expect((await store.listSessions("u1")).map((item) => item.tokenHash)).toEqual(["s1", "s5"]);
        expect(await store.listSessions("nobody")).toEqual([]);
      });

      it("forgets a session once it expires", async () => {
        await store.createSession(session("s1"));
        await advance(3_600_000);
        expect(await store.getSession("s1")).toBeNull();
      });

      it("slides a session's lifetime forward only, and keeps it listed for as long", async () => {
        await store.createSession(session("s1", { kind: "approver" }));
        const touched = await store.touchSession({
          tokenHash: "s1",
          lastSeenAt: T0 + 1_000,
          expiresAt: T0 + 7_200_000,
        });
        expect(touched).toMatchObject({ lastSeenAt: T0 + 1_000, expiresAt: T0 + 7_200_000 });
        // An older use arriving late moves nothing back.
        expect(await store.touchSession({ tokenHash: "s1", lastSeenAt: T0 + 500, expiresAt: T0 + 10 })).toMatchObject({
          lastSeenAt: T0 + 1_000,
          expiresAt: T0 + 7_200_000,
        });
        // Past its first lifetime, it is still there, and still listed.
        await advance(3_600_000 + 1);
        expect(await store.getSession("s1")).toMatchObject({ expiresAt: T0 + 7_200_000 });
        expect((await store.listSessions("u1")).map((item) => item.tokenHash)).toEqual(["s1"]);
        await advance(3_600_000);
        expect(await store.getSession("s1")).toBeNull();
      });

      it("never brings an ended session back", async () => {
        await store.createSession(session("s1"));
        await store.deleteSession("s1");
        expect(await store.touchSession({ tokenHash: "s1", lastSeenAt: T0 + 1, expiresAt: T0 + 7_200_000 })).toBeNull();
        const subscription = { endpoint: "https://push.example/1", keys: { p256dh: "k", auth: "a" }, createdAt: T0 };
        expect(await store.setSessionPushSubscription({ tokenHash: "s1", subscription })).toBeNull();
        expect(await store.getSession("s1")).toBeNull();
        await store.createSession(session("s2", { expiresAt: T0 + 10 }));
        await advance(10);
        expect(
          await store.touchSession({ tokenHash: "s2", lastSeenAt: T0 + 10, expiresAt: T0 + 7_200_000 }),
        ).toBeNull();
        expect(await store.getSession("s2")).toBeNull();
      });

      it("keeps a push subscription with its session, and clears it only if it is still the one named", async () => {
        await store.createSession(session("s1", { kind: "approver" }));
        const first = { endpoint: "https://push.example/1", keys: { p256dh: "k1", auth: "a1" }, createdAt: T0 };
        const second = { endpoint: "https://push.example/2", keys: { p256dh: "k2", auth: "a2" }, createdAt: T0 + 1 };
        expect(await store.setSessionPushSubscription({ tokenHash: "s1", subscription: first })).toMatchObject({
          pushSubscription: first,
        });
        expect((await store.listSessions("u1"))[0]?.pushSubscription).toEqual(first);
        await store.setSessionPushSubscription({ tokenHash: "s1", subscription: second });
        // A push service reporting the first one gone must not clear its replacement.
        await store.setSessionPushSubscription({
          tokenHash: "s1",
          subscription: null,
          ifEndpoint: first.endpoint,
        });
        expect((await store.getSession("s1"))?.pushSubscription).toEqual(second);
        await store.setSessionPushSubscription({ tokenHash: "s1", subscription: null, ifEndpoint: second.endpoint });
        expect((await store.getSession("s1"))?.pushSubscription).toBeNull();
        // Touching keeps what is there.
        await store.setSessionPushSubscription({ tokenHash: "s1", subscription: first });
        await store.touchSession({ tokenHash: "s1", lastSeenAt: T0 + 5, expiresAt: T0 + 7_200_000 });
        expect((await store.getSession("s1"))?.pushSubscription).toEqual(first);
      });

      it("loses no change when a touch and a subscription race", async () => {
        await store.createSession(session("s1", { kind: "approver" }));
        const subscription = { endpoint: "https://push.example/1", keys: { p256dh: "k", auth: "a" }, createdAt: T0 };
        await Promise.all([
          store.touchSession({ tokenHash: "s1", lastSeenAt: T0 + 5, expiresAt: T0 + 7_200_000 }),
          store.setSessionPushSubscription({ tokenHash: "s1", subscription }),
          store.touchSession({ tokenHash: "s1", lastSeenAt: T0 + 6, expiresAt: T0 + 7_000_000 }),
        ]);
        expect(await store.getSession("s1")).toMatchObject({
          lastSeenAt: T0 + 6,
          expiresAt: T0 + 7_200_000,
          pushSubscription: subscription,
        });
      });
    });

    describe("push requests", () => {
      const swap = (options: { loginRequestId: string; source?: string; userId?: string; delivered?: boolean }) =>
        store.swapPendingPush({
          userId: options.userId ?? "u1",
          source: options.source ?? "203.0.113.7",
          loginRequestId: options.loginRequestId,
          until: T0 + 120_000,
          delivered: options.delivered ?? true,
        });

      it("keeps one pending push per user and source: each swap returns the one it replaced", async () => {
        expect(await swap({ loginRequestId: "p1" })).toBeNull();
        expect(await swap({ loginRequestId: "p2" })).toBe("p1");
        expect(await store.listPendingPushes("u1")).toEqual(["p2"]);
        expect(await store.listPendingPushes("u2")).toEqual([]);
        await advance(120_000);
        expect(await store.listPendingPushes("u1")).toEqual([]);
        expect(
          await store.swapPendingPush({
            userId: "u1",
            source: "203.0.113.7",
            loginRequestId: "p3",
            until: T0 + 240_000,
            delivered: true,
          }),
        ).toBeNull();
      });

      it("never lets a push from another source replace the pending one", async () => {
        expect(await swap({ loginRequestId: "own", source: "198.51.100.1" })).toBeNull();
        expect(await swap({ loginRequestId: "stranger-1", source: "203.0.113.7" })).toBeNull();
        expect(await swap({ loginRequestId: "stranger-2", source: "203.0.113.7" })).toBe("stranger-1");
        expect((await store.listPendingPushes("u1")).sort()).toEqual(["own", "stranger-2"]);
      });

      it("lets a held-back push take its source's slot without being listed", async () => {
        expect(await swap({ loginRequestId: "p1" })).toBeNull();
        expect(await swap({ loginRequestId: "held", delivered: false })).toBe("p1");
        expect(await store.listPendingPushes("u1")).toEqual([]);
        expect(await swap({ loginRequestId: "p2" })).toBe("held");
        expect(await store.listPendingPushes("u1")).toEqual(["p2"]);
      });

      it("gives each of many racing pushes a different predecessor", async () => {
        const previous = await Promise.all(
          Array.from({ length: 10 }, (_, index) => swap({ loginRequestId: `p${index}` })),
        );
        // One saw nothing; the other nine each replaced a different one: none is lost unsuperseded.
        expect(previous.filter((id) => id === null)).toHaveLength(1);
        expect(new Set(previous.filter((id) => id !== null)).size).toBe(9);
      });

      it("pauses pushes until a time, never shortening a pause", async () => {
        expect(await store.pushesPausedUntil("u1")).toBeNull();
        await store.pausePushes({ userId: "u1", until: T0 + 20_000 });
        await store.pausePushes({ userId: "u1", until: T0 + 10_000 });
        expect(await store.pushesPausedUntil("u1")).toBe(T0 + 20_000);
        await advance(20_000);
        expect(await store.pushesPausedUntil("u1")).toBeNull();
      });
    });

    describe("activity", () => {
      it("lists newest first and keeps only the newest ACTIVITY_LIMIT events", async () => {
        for (let index = 0; index < ACTIVITY_LIMIT + 5; index += 1) {
          await store.appendActivity({
            userId: "u1",
            event: { at: T0 + index, kind: "login_approved", loginRequestId: `l${index}`, context: null, detail: null },
          });
        }
        const events = await store.listActivity("u1");
        expect(events).toHaveLength(ACTIVITY_LIMIT);
        expect(events[0]?.at).toBe(T0 + ACTIVITY_LIMIT + 4);
        expect(events.at(-1)?.at).toBe(T0 + 5);
        expect(await store.listActivity("u2")).toEqual([]);
      });
    });

    it("returns copies: changing a returned record changes nothing stored", async () => {
      await store.createLoginRequest(loginRequest("l1"));
      const read = await store.getLoginRequest("l1");
      read!.status = "approved";
      read!.desktop.label = "changed";
      expect(await store.getLoginRequest("l1")).toEqual(loginRequest("l1"));
    });
  });
}
