import { DESKTOP_KEY } from "../testing/desktop-key.js";
import { describe, expect, it } from "vitest";
import type { GeoLocator } from "../context/geo.js";
import type { ClientContext, Store } from "../store/store.js";
import { appErrorOf, DESKTOP, enrolPerson, FAR_DESKTOP, PHONE } from "../testing/fixtures.js";
import { ADDRESSES, testGeoLocator } from "../testing/places.js";
import {
  approveWithoutPasskey,
  createTestServices,
  qrCapabilityOf,
  type TestServices,
} from "../testing/test-services.js";

const TEN_MINUTES = 10 * 60_000;
const PAUSE = 20 * 60_000;

/** A desktop on its own network: 203.0.113.`host`. */
function desktopAt(host: number): ClientContext {
  return { ...FAR_DESKTOP, ip: `203.0.113.${host}` };
}

async function withAda(options: { env?: Record<string, string>; geo?: GeoLocator } = {}) {
  const setup = createTestServices(options);
  const { user, passkeys } = await enrolPerson({ store: setup.store, clock: setup.clock, username: "ada" });
  return { ...setup, ada: user, passkey: passkeys[0]! };
}

/** Logs the name of every store method the services call, in order (the store is changed in place). */
function recordStoreCalls(store: Store): string[] {
  const calls: string[] = [];
  const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of Object.keys(methods)) {
    const original = methods[name]!;
    methods[name] = (...args) => {
      calls.push(name);
      return original(...args);
    };
  }
  return calls;
}

async function statusOf(setup: TestServices, id: string) {
  return (await setup.store.getLoginRequest(id))?.status;
}

async function inboxIds(setup: TestServices, userId: string): Promise<string[]> {
  return (await setup.services.push.inbox({ userId, viewer: PHONE })).map((review) => review.id);
}

describe("createPushLogin: what the desktop learns", () => {
  it("answers an existing name and an unknown one the same way, and announces one push for each", async () => {
    const setup = await withAda();
    const known = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    const unknown = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "nobody",
      desktop: FAR_DESKTOP,
    });

    for (const answer of [known, unknown]) {
      expect(Object.keys(answer).sort()).toEqual(["desktopSecret", "login", "matchNumber"]);
      expect(answer.login).toMatchObject({ status: "pending", version: 1, scannedBy: null, denyReason: null });
      expect(answer.login.expiresAt - answer.login.createdAt).toBe(setup.config.loginTtlSeconds * 1000);
      expect(answer.matchNumber).toBeGreaterThanOrEqual(10);
      expect(answer.matchNumber).toBeLessThanOrEqual(99);
    }
    expect(JSON.stringify(known)).not.toContain(setup.ada.id);
    expect(setup.published.pushes.map(({ userId }) => userId)).toEqual([
      setup.ada.id,
      expect.stringMatching(/^unknown:/),
    ]);
  });

  it("takes the same steps in the store for an existing name and an unknown one, first push and superseding one alike", async () => {
    const setup = await withAda();
    const calls = recordStoreCalls(setup.store);
    const stepsFor = async (username: string): Promise<string[]> => {
      calls.length = 0;
      await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username, desktop: DESKTOP });
      return [...calls];
    };

    const [knownFirst, unknownFirst] = [await stepsFor("ada"), await stepsFor("nobody")];
    const [knownSecond, unknownSecond] = [await stepsFor("ada"), await stepsFor("nobody")];
    expect(unknownFirst).toEqual(knownFirst);
    expect(unknownSecond).toEqual(knownSecond);
    expect(knownSecond).toContain("compareAndSetLoginRequest");
  });

  it("offers the right number among three different ones", async () => {
    const setup = await withAda();
    const { login, matchNumber } = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    const choices = (await setup.store.getLoginRequest(login.id))?.push?.choices ?? [];
    expect(choices).toHaveLength(3);
    expect(new Set(choices).size).toBe(3);
    expect(choices).toContain(matchNumber);
  });

  it("gives an unknown name the same slots as a real one: its second push from one network supersedes the first", async () => {
    const setup = createTestServices();
    const first = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "nobody",
      desktop: DESKTOP,
    });
    await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "nobody", desktop: DESKTOP });
    expect(await statusOf(setup, first.login.id)).toBe("superseded");
  });
});

describe("createPushLogin: one pending push per network", () => {
  it("supersedes the pending push from the same network; the phone lists only the newer one", async () => {
    const setup = await withAda();
    const first = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    const second = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });

    expect(await statusOf(setup, first.login.id)).toBe("superseded");
    expect(setup.published.logins.at(-1)).toMatchObject({ after: { id: first.login.id, status: "superseded" } });
    expect(await inboxIds(setup, setup.ada.id)).toEqual([second.login.id]);
  });

  it("supersedes nothing from another network: the phone lists one per network, newest first", async () => {
    const setup = await withAda();
    const mine = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    setup.clock.advance(1_000);
    const stranger = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: FAR_DESKTOP,
    });

    expect(await statusOf(setup, mine.login.id)).toBe("pending");
    expect(await inboxIds(setup, setup.ada.id)).toEqual([stranger.login.id, mine.login.id]);
  });

  it("leaves an approved request alone when a newer push from its network arrives", async () => {
    const setup = await withAda();
    const first = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    await approveWithoutPasskey({
      services: setup.services,
      clock: setup.clock,
      id: first.login.id,
      userId: setup.ada.id,
      credentialId: setup.passkey.id,
    });
    await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "ada", desktop: DESKTOP });
    expect(await statusOf(setup, first.login.id)).toBe("approved");
  });
});

describe("createPushLogin: held-back pushes (paused or over a limit)", () => {
  it("while paused: still creates the request, takes the slot and supersedes, but announces no push", async () => {
    const setup = await withAda();
    const delivered = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    await setup.store.pausePushes({ userId: setup.ada.id, until: setup.clock.now() + PAUSE });

    const held = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    expect(held.login.status).toBe("pending");
    expect(await statusOf(setup, delivered.login.id)).toBe("superseded");
    expect(setup.published.pushes.map(({ review }) => review.id)).toEqual([delivered.login.id]);
    expect(await inboxIds(setup, setup.ada.id)).toEqual([]);
  });

  it("allows 3 pushes per network in 10 minutes; the 4th is held back yet supersedes the 3rd; other networks still reach the phone", async () => {
    const setup = await withAda();
    const sent = [];
    for (let push = 1; push <= 3; push += 1) {
      sent.push(
        await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "ada", desktop: DESKTOP }),
      );
    }
    expect(setup.published.pushes).toHaveLength(3);

    const held = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    expect(held.login.status).toBe("pending");
    expect(setup.published.pushes).toHaveLength(3);
    expect(await statusOf(setup, sent[2]!.login.id)).toBe("superseded");
    expect(await inboxIds(setup, setup.ada.id)).toEqual([]);

    const elsewhere = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: FAR_DESKTOP,
    });
    expect(setup.published.pushes.at(-1)?.review.id).toBe(elsewhere.login.id);

    setup.clock.advance(TEN_MINUTES);
    const later = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    expect(setup.published.pushes.at(-1)?.review.id).toBe(later.login.id);
  });

  it("reaches one person at most 10 times in 10 minutes however many networks ask", async () => {
    const setup = await withAda();
    for (let host = 1; host <= 10; host += 1) {
      await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "ada", desktop: desktopAt(host) });
    }
    expect(setup.published.pushes).toHaveLength(10);
    await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "ada", desktop: desktopAt(11) });
    expect(setup.published.pushes).toHaveLength(10);
  });
});

describe("matchPush", () => {
  it("opens the request for the passkey when the phone picks the right number", async () => {
    const setup = await withAda();
    const { login, matchNumber } = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    const matched = await setup.services.push.matchPush({
      id: login.id,
      userId: setup.ada.id,
      choice: matchNumber,
      phone: PHONE,
    });
    expect(matched.matched).toBe(true);
    expect(matched.request).toMatchObject({ status: "scanned", scannedBy: PHONE });
    expect(matched.matched && matched.approval.ceremonyId).toEqual(expect.any(String));
  });

  it("denies the request as number_mismatch when the phone picks a wrong number, without pausing pushes", async () => {
    const setup = await withAda();
    const { login, matchNumber } = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    const wrong = (await setup.store.getLoginRequest(login.id))?.push?.choices.find((n) => n !== matchNumber);
    expect(wrong).toBeDefined();

    const answer = await setup.services.push.matchPush({
      id: login.id,
      userId: setup.ada.id,
      choice: wrong!,
      phone: PHONE,
    });
    expect(answer.matched).toBe(false);
    expect(answer.request).toMatchObject({ status: "denied", denyReason: "number_mismatch" });
    expect(setup.published.logins.at(-1)?.actorUserId).toBe(setup.ada.id);
    expect(await setup.store.pushesPausedUntil(setup.ada.id)).toBeNull();
  });

  it("does not let another person's phone match (or deny) the request: LOGIN_NOT_FOUND", async () => {
    const setup = await withAda();
    const { login } = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    const refused = await appErrorOf(
      setup.services.push.matchPush({ id: login.id, userId: "user-eve", choice: 10, phone: PHONE }),
    );
    expect(refused.code).toBe("LOGIN_NOT_FOUND");
    expect(await statusOf(setup, login.id)).toBe("pending");
  });
});

describe("'This wasn't me' pauses pushes", () => {
  it("holds back every push to the person for the configured pause, then delivers again", async () => {
    const setup = await withAda();
    const { login } = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: FAR_DESKTOP,
    });
    await setup.services.approvals.deny({
      id: login.id,
      proof: { kind: "push", userId: setup.ada.id },
      reason: "not_me",
      phone: PHONE,
      actorUserId: setup.ada.id,
    });
    expect(await setup.store.pushesPausedUntil(setup.ada.id)).toBe(setup.clock.now() + PAUSE);

    await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "ada", desktop: DESKTOP });
    setup.clock.advance(PAUSE - 1);
    await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "ada", desktop: desktopAt(9) });
    expect(setup.published.pushes).toHaveLength(1);

    setup.clock.advance(1);
    const after = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: desktopAt(10),
    });
    expect(setup.published.pushes.at(-1)?.review.id).toBe(after.login.id);
  });

  it("pauses too when a signed-in phone reports a QR request it scanned", async () => {
    const setup = await withAda();
    const { request } = await setup.services.logins.createLoginRequest({
      desktopKey: DESKTOP_KEY,
      desktop: FAR_DESKTOP,
    });
    await setup.services.approvals.deny({
      id: request.id,
      proof: { kind: "qr", qrToken: qrCapabilityOf(request.id) },
      reason: "not_me",
      phone: PHONE,
      actorUserId: setup.ada.id,
    });
    expect(await setup.store.pushesPausedUntil(setup.ada.id)).toBe(setup.clock.now() + PAUSE);
  });

  it("pauses no one for an anonymous phone's report, nor for a plain 'cancel'", async () => {
    const setup = await withAda();
    for (const denial of [
      { reason: "not_me", actorUserId: null },
      { reason: "cancelled", actorUserId: setup.ada.id },
    ] as const) {
      const { request } = await setup.services.logins.createLoginRequest({
        desktopKey: DESKTOP_KEY,
        desktop: FAR_DESKTOP,
      });
      const proof = { kind: "qr", qrToken: qrCapabilityOf(request.id) } as const;
      await setup.services.approvals.deny({ id: request.id, proof, phone: PHONE, ...denial });
    }
    expect(await setup.store.pushesPausedUntil(setup.ada.id)).toBeNull();
  });

  it("pauses nothing when the pause is configured to 0 minutes", async () => {
    const setup = await withAda({ env: { PUSH_PAUSE_MINUTES: "0" } });
    const { login } = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: FAR_DESKTOP,
    });
    await setup.services.approvals.deny({
      id: login.id,
      proof: { kind: "push", userId: setup.ada.id },
      reason: "not_me",
      phone: PHONE,
      actorUserId: setup.ada.id,
    });
    expect(await setup.store.pushesPausedUntil(setup.ada.id)).toBeNull();
  });
});

describe("inbox", () => {
  it("shows each waiting push with where it comes from, as the phone sees it; far away, without numbers to pick", async () => {
    const setup = await withAda({ geo: testGeoLocator() });
    const desktop = { ...FAR_DESKTOP, ip: ADDRESSES.sydney, place: "Sydney, Australia" };
    const { login } = await setup.services.push.createPushLogin({ desktopKey: DESKTOP_KEY, username: "ada", desktop });
    const viewer = { ...PHONE, ip: ADDRESSES.stockholm };
    const [review] = await setup.services.push.inbox({ userId: setup.ada.id, viewer });
    expect(review).toMatchObject({
      id: login.id,
      status: "pending",
      desktop,
      proximity: { verdict: "far_away", distanceKm: 15_596, otherCountry: true },
      // The person must type the computer's number, which a relayed request's victim cannot see.
      choices: [],
    });
    expect(review?.risks.map(({ code }) => code)).toEqual(["far_away"]);

    // The same request seen from a phone in the computer's own area offers its three numbers.
    const near = { ...PHONE, ip: ADDRESSES.sydney };
    const [nearReview] = await setup.services.push.inbox({ userId: setup.ada.id, viewer: near });
    expect(nearReview?.choices).toEqual((await setup.store.getLoginRequest(login.id))?.push?.choices);
  });

  it("drops requests that expired or were decided", async () => {
    const setup = await withAda();
    const denied = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: DESKTOP,
    });
    await setup.services.approvals.deny({
      id: denied.login.id,
      proof: { kind: "push", userId: setup.ada.id },
      reason: "cancelled",
      phone: PHONE,
      actorUserId: setup.ada.id,
    });
    const expiring = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: FAR_DESKTOP,
    });
    expect(await inboxIds(setup, setup.ada.id)).toEqual([expiring.login.id]);

    setup.clock.advance(expiring.login.expiresAt - setup.clock.now());
    expect(await inboxIds(setup, setup.ada.id)).toEqual([]);
  });
});

describe("createAppPush: an app's request (CIBA)", () => {
  const APP = { name: "Bank call centre", via: "backchannel", bindingMessage: "Call 4711" } as const;

  async function appPush(setup: TestServices, options: { target: string; id: string; source?: string }) {
    return setup.services.push.createAppPush({
      target: options.target,
      source: options.source ?? "app:call-centre",
      id: options.id,
      desktop: FAR_DESKTOP,
      app: APP,
      oidc: { kind: "ciba", id: `ciba-${options.id}` },
      expiresAt: setup.clock.now() + 60_000,
    });
  }

  it("reaches the person's inbox with the app's message and no numbers; it opens without a number", async () => {
    const setup = await withAda();
    const request = await appPush(setup, { target: await setup.services.push.targetFor("ada"), id: "app-push-1" });
    const [review] = await setup.services.push.inbox({ userId: setup.ada.id, viewer: PHONE });
    expect(review).toMatchObject({ id: request.id, app: APP, choices: [], risks: [] });

    const withNumber = await appErrorOf(
      setup.services.push.matchPush({ id: request.id, userId: setup.ada.id, choice: 42, phone: PHONE }),
    );
    expect(withNumber.code).toBe("VALIDATION_FAILED");
    // A refused number is not a wrong one: the request is still open.
    expect(await statusOf(setup, request.id)).toBe("pending");
    const opened = await setup.services.push.matchPush({
      id: request.id,
      userId: setup.ada.id,
      choice: undefined,
      phone: PHONE,
    });
    expect(opened.matched).toBe(true);
  });

  it("makes one request per id however often it is asked, and a newer one from the same app supersedes it", async () => {
    const setup = await withAda();
    const target = await setup.services.push.targetFor("ada");
    const first = await appPush(setup, { target, id: "app-push-1" });
    expect((await appPush(setup, { target, id: "app-push-1" })).version).toBe(first.version);
    expect(await inboxIds(setup, setup.ada.id)).toEqual([first.id]);

    const second = await appPush(setup, { target, id: "app-push-2" });
    expect(await statusOf(setup, first.id)).toBe("superseded");
    // Another app is another source: it does not replace the call centre's request.
    const other = await appPush(setup, { target, id: "app-push-3", source: "app:helpdesk" });
    expect((await inboxIds(setup, setup.ada.id)).sort()).toEqual([second.id, other.id].sort());
  });

  it("gives an unknown name a stand-in target that is nobody's account", async () => {
    const setup = await withAda();
    const target = await setup.services.push.targetFor("nobody");
    expect(target).toMatch(/^unknown:/);
    expect(await setup.services.push.targetFor("nobody")).toBe(target);
    await appPush(setup, { target, id: "app-push-1" });
    expect(await inboxIds(setup, setup.ada.id)).toEqual([]);
  });
});
