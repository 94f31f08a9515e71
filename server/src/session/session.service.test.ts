import { describe, expect, it, vi } from "vitest";
import { createEventChannel } from "../events/event-channel.js";
import { cryptoRandom } from "../random.js";
import { createMemoryStore } from "../store/memory.store.js";
import type { SessionSource } from "../store/store.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { DESKTOP, enrolPerson, PHONE } from "../testing/fixtures.js";
import { hashSecret } from "../tokens.js";
import type { SessionEnded } from "./session.events.js";
import { APPROVER_SESSION_SLIDE_INTERVAL_MS, createSessionService } from "./session.service.js";

const WEEK = 7 * 24 * 3600 * 1000;

/** Ada, with two passkeys, and the session service with everything it announces recorded. */
async function withAda() {
  const clock = createFakeClock();
  const store = createMemoryStore({ clock });
  const events = createEventChannel<SessionEnded>();
  const published: SessionEnded[] = [];
  events.subscribe((event) => void published.push(event));
  const sessions = createSessionService({
    store,
    clock,
    random: cryptoRandom,
    events,
    sessionTtlMs: WEEK,
    approverSessionTtlMs: 4 * WEEK,
  });
  const { user, passkeys } = await enrolPerson({
    store,
    clock,
    username: "ada",
    passkeyLabels: ["Pixel 8 · Chrome", "YubiKey 5"],
  });
  return { clock, store, sessions, published, ada: user, passkeys };
}

function desktopSession(setup: Awaited<ReturnType<typeof withAda>>, source?: SessionSource) {
  return setup.sessions.createSession({
    kind: "desktop",
    userId: setup.ada.id,
    context: DESKTOP,
    source: source ?? { kind: "passkey", credentialId: "passkey-ada-1" },
  });
}

describe("createSession / findSession", () => {
  it("stores only the token's hash, for the configured time", async () => {
    const setup = await withAda();
    const { token, record } = await desktopSession(setup);
    expect(record.tokenHash).toBe(hashSecret(token));
    expect(JSON.stringify(await setup.store.getSession(record.tokenHash))).not.toContain(token);
    expect(record.expiresAt).toBe(setup.clock.now() + WEEK);
  });

  it("finds a live session by its token and kind", async () => {
    const setup = await withAda();
    const { token, record } = await desktopSession(setup);
    expect(await setup.sessions.findSession({ token, kind: "desktop" })).toEqual(record);
  });

  it("refuses a desktop token where an approver session is needed, and the other way round", async () => {
    const setup = await withAda();
    const desktop = await desktopSession(setup);
    const approver = await setup.sessions.createSession({
      kind: "approver",
      userId: setup.ada.id,
      context: PHONE,
      source: { kind: "enrolment", credentialId: "passkey-ada-1" },
    });
    expect(await setup.sessions.findSession({ token: desktop.token, kind: "approver" })).toBeNull();
    expect(await setup.sessions.findSession({ token: approver.token, kind: "desktop" })).toBeNull();
  });

  it("refuses a session from the moment it expires (and not a millisecond before)", async () => {
    const setup = await withAda();
    const { token } = await desktopSession(setup);
    setup.clock.advance(WEEK - 1);
    expect(await setup.sessions.findSession({ token, kind: "desktop" })).not.toBeNull();
    setup.clock.advance(1);
    expect(await setup.sessions.findSession({ token, kind: "desktop" })).toBeNull();
  });

  it("finds nothing for no token or an unknown one", async () => {
    const setup = await withAda();
    await desktopSession(setup);
    expect(await setup.sessions.findSession({ token: null, kind: "desktop" })).toBeNull();
    expect(await setup.sessions.findSession({ token: "made-up", kind: "desktop" })).toBeNull();
  });
});

describe("endSession / endSessions", () => {
  it("signs out with the token, announcing it once as signed_out", async () => {
    const setup = await withAda();
    const { token, record } = await desktopSession(setup);
    expect(await setup.sessions.endSession({ token, kind: "desktop" })).toEqual(record);
    expect(await setup.sessions.endSession({ token, kind: "desktop" })).toBeNull();
    expect(setup.published).toEqual([{ session: record, reason: "signed_out" }]);
    expect(await setup.store.getSession(record.tokenHash)).toBeNull();
  });

  it("does not end a session through a token of the other kind", async () => {
    const setup = await withAda();
    const { token, record } = await desktopSession(setup);
    expect(await setup.sessions.endSession({ token, kind: "approver" })).toBeNull();
    expect(await setup.store.getSession(record.tokenHash)).toEqual(record);
    expect(setup.published).toEqual([]);
  });

  it("announces each session once even when two callers end it at the same time", async () => {
    const setup = await withAda();
    const first = await desktopSession(setup);
    const second = await desktopSession(setup);
    const sessions = [first.record, second.record];
    const deletes = vi.spyOn(setup.store, "deleteSession");

    const [one, other] = await Promise.all([
      setup.sessions.endSessions({ sessions, reason: "revoked" }),
      setup.sessions.endSessions({ sessions, reason: "revoked" }),
    ]);
    expect(deletes).toHaveBeenCalledTimes(4);
    expect([...one, ...other].map(({ id }) => id).sort()).toEqual([first.record.id, second.record.id].sort());
    expect(setup.published.map(({ session }) => session.id).sort()).toEqual([first.record.id, second.record.id].sort());
    expect(await setup.store.listSessions(setup.ada.id)).toEqual([]);
  });

  it("returns only the sessions it ended, skipping one already gone", async () => {
    const setup = await withAda();
    const gone = await desktopSession(setup);
    const live = await desktopSession(setup);
    await setup.sessions.endSessions({ sessions: [gone.record], reason: "revoked" });

    const ended = await setup.sessions.endSessions({
      sessions: [gone.record, live.record],
      reason: "replaced",
    });
    expect(ended).toEqual([live.record]);
    expect(setup.published.map(({ reason }) => reason)).toEqual(["revoked", "replaced"]);
  });
});

describe("describeSession", () => {
  it("says which passkey and which phone approved a desktop session, even after the passkey is gone", async () => {
    const setup = await withAda();
    const approvedAt = setup.clock.now();
    const source: SessionSource = {
      kind: "login_request",
      loginRequestId: "request-1",
      credentialId: setup.passkeys[1]!.id,
      approver: PHONE,
      approvedAt,
    };
    const { record } = await desktopSession(setup, source);

    expect(await setup.sessions.describeSession(record)).toMatchObject({
      kind: "desktop",
      user: { id: setup.ada.id, username: "ada" },
      method: "qr",
      passkeyLabel: "YubiKey 5",
      approvedWith: {
        loginRequestId: "request-1",
        passkeyLabel: "YubiKey 5",
        approverDevice: PHONE.label,
        approvedAt,
      },
    });

    await setup.store.removeCredential({ userId: setup.ada.id, credentialId: setup.passkeys[1]!.id });
    expect(await setup.sessions.describeSession(record)).toMatchObject({
      passkeyLabel: null,
      approvedWith: { passkeyLabel: "a removed passkey" },
    });
  });
});

describe("slideSession", () => {
  const HOUR = 3600 * 1000;
  const phoneSession = (setup: Awaited<ReturnType<typeof withAda>>) =>
    setup.sessions.createSession({
      kind: "approver",
      userId: setup.ada.id,
      context: PHONE,
      source: { kind: "enrolment", credentialId: "passkey-ada-1" },
    });

  it("gives a phone its own lifetime and a computer the fixed one", async () => {
    const setup = await withAda();
    expect((await phoneSession(setup)).record.expiresAt).toBe(setup.clock.now() + 4 * WEEK);
    expect((await desktopSession(setup)).record.expiresAt).toBe(setup.clock.now() + WEEK);
  });

  it("moves a used phone session forward once the slide interval has passed, and not before", async () => {
    const setup = await withAda();
    const { record } = await phoneSession(setup);
    setup.clock.advance(APPROVER_SESSION_SLIDE_INTERVAL_MS - 1);
    expect(await setup.sessions.slideSession(record)).toBe(record);
    setup.clock.advance(1);
    const slid = await setup.sessions.slideSession(record);
    expect(slid).toMatchObject({ lastSeenAt: setup.clock.now(), expiresAt: setup.clock.now() + 4 * WEEK });
    expect(await setup.store.getSession(record.tokenHash)).toEqual(slid);
  });

  it("never moves a computer's session, nor brings back one that ended", async () => {
    const setup = await withAda();
    const desktop = await desktopSession(setup);
    const phone = await phoneSession(setup);
    await setup.sessions.endSessions({ sessions: [phone.record], reason: "revoked" });
    setup.clock.advance(2 * HOUR);
    expect(await setup.sessions.slideSession(desktop.record)).toBe(desktop.record);
    expect(await setup.sessions.slideSession(phone.record)).toBeNull();
    expect(await setup.store.getSession(phone.record.tokenHash)).toBeNull();
  });
});
