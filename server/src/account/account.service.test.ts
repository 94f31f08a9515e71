import { describe, expect, it } from "vitest";
import { createEventChannel } from "../events/event-channel.js";
import { cryptoRandom } from "../random.js";
import type { SessionEnded } from "../session/session.events.js";
import { createSessionService } from "../session/session.service.js";
import { createMemoryStore } from "../store/memory.store.js";
import type { ClientContext, SessionRecord } from "../store/store.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { appErrorOf, DESKTOP, enrolPerson, PHONE } from "../testing/fixtures.js";
import { createAccountService } from "./account.service.js";

const LAPTOP: ClientContext = { ...DESKTOP, label: "Linux · Firefox", os: "Linux" };

/** Ada with two passkeys and sessions made by each; Bob with one passkey and a session. */
async function setUp() {
  const clock = createFakeClock();
  const store = createMemoryStore({ clock });
  const events = createEventChannel<SessionEnded>();
  const ended: SessionEnded[] = [];
  events.subscribe((event) => void ended.push(event));
  const sessionService = createSessionService({
    store,
    clock,
    random: cryptoRandom,
    events,
    sessionTtlMs: 3_600_000,
    approverSessionTtlMs: 3_600_000,
  });
  const account = createAccountService({ store, clock, sessions: sessionService });
  const ada = await enrolPerson({
    store,
    clock,
    username: "ada",
    passkeyLabels: ["Pixel 8 · Chrome", "iPad · Safari"],
  });
  const bob = await enrolPerson({ store, clock, username: "bob" });
  const phoneKey = ada.passkeys[0]!;
  const tabletKey = ada.passkeys[1]!;
  const session = async (options: {
    userId: string;
    kind: "desktop" | "approver";
    credentialId: string;
    context: ClientContext;
    viaPhone?: boolean;
  }): Promise<SessionRecord> => {
    clock.advance(1);
    const source = options.viaPhone
      ? {
          kind: "login_request" as const,
          loginRequestId: `request-${clock.now()}`,
          credentialId: options.credentialId,
          approver: PHONE,
          approvedAt: clock.now(),
        }
      : { kind: "enrolment" as const, credentialId: options.credentialId };
    return (await sessionService.createSession({ ...options, source })).record;
  };
  const sessions = {
    adaPhone: await session({ userId: ada.user.id, kind: "approver", credentialId: phoneKey.id, context: PHONE }),
    adaDesktopViaPhone: await session({
      userId: ada.user.id,
      kind: "desktop",
      credentialId: phoneKey.id,
      context: DESKTOP,
      viaPhone: true,
    }),
    adaTablet: await session({ userId: ada.user.id, kind: "approver", credentialId: tabletKey.id, context: PHONE }),
    adaLaptopViaTablet: await session({
      userId: ada.user.id,
      kind: "desktop",
      credentialId: tabletKey.id,
      context: LAPTOP,
      viaPhone: true,
    }),
    bobPhone: await session({
      userId: bob.user.id,
      kind: "approver",
      credentialId: bob.passkeys[0]!.id,
      context: PHONE,
    }),
  };
  return { clock, store, account, ended, ada, bob, phoneKey, tabletKey, sessions };
}

describe("listSessions", () => {
  it("lists only the person's own sessions and marks the one asking", async () => {
    const { account, sessions } = await setUp();
    const listed = await account.listSessions({ approver: sessions.adaPhone });
    expect(listed.map(({ id }) => id)).toEqual([
      sessions.adaPhone.id,
      sessions.adaDesktopViaPhone.id,
      sessions.adaTablet.id,
      sessions.adaLaptopViaTablet.id,
    ]);
    expect(listed.filter(({ current }) => current).map(({ id }) => id)).toEqual([sessions.adaPhone.id]);
    expect(listed[1]).toMatchObject({ kind: "desktop", method: "qr", context: DESKTOP });
  });
});

describe("revokeSession", () => {
  it("ends one of the person's sessions at once, announces it as revoked and records it in their activity", async () => {
    const { account, store, clock, ended, sessions, ada } = await setUp();
    await account.revokeSession({ approver: sessions.adaPhone, sessionId: sessions.adaDesktopViaPhone.id });

    expect(await store.getSession(sessions.adaDesktopViaPhone.tokenHash)).toBeNull();
    expect(ended).toEqual([{ session: sessions.adaDesktopViaPhone, reason: "revoked" }]);
    expect(await store.listActivity(ada.user.id)).toEqual([
      {
        at: clock.now(),
        kind: "session_signed_out",
        loginRequestId: null,
        context: DESKTOP,
        detail: `revoked from ${PHONE.label}`,
      },
    ]);
  });

  it("cannot end someone else's session: NOT_FOUND, and it lives on", async () => {
    const { account, store, ended, sessions } = await setUp();
    const refused = await appErrorOf(
      account.revokeSession({ approver: sessions.adaPhone, sessionId: sessions.bobPhone.id }),
    );
    expect(refused.code).toBe("NOT_FOUND");
    expect(await store.getSession(sessions.bobPhone.tokenHash)).toEqual(sessions.bobPhone);
    expect(ended).toEqual([]);
  });

  it("answers NOT_FOUND for a session already ended", async () => {
    const { account, sessions, ended } = await setUp();
    const revoke = () => account.revokeSession({ approver: sessions.adaPhone, sessionId: sessions.adaTablet.id });
    await revoke();
    expect((await appErrorOf(revoke())).code).toBe("NOT_FOUND");
    expect(ended).toHaveLength(1);
  });
});

describe("removePasskey", () => {
  it("ends every session the passkey made, and no other", async () => {
    const { account, store, ended, sessions, ada, phoneKey, tabletKey } = await setUp();
    await account.removePasskey({ approver: sessions.adaTablet, passkeyId: phoneKey.id });

    expect((await store.listCredentials(ada.user.id)).map(({ id }) => id)).toEqual([tabletKey.id]);
    expect(ended.map(({ session, reason }) => [session.id, reason])).toEqual([
      [sessions.adaPhone.id, "revoked"],
      [sessions.adaDesktopViaPhone.id, "revoked"],
    ]);
    expect((await store.listSessions(ada.user.id)).map(({ id }) => id)).toEqual([
      sessions.adaTablet.id,
      sessions.adaLaptopViaTablet.id,
    ]);
    expect(await store.getSession(sessions.bobPhone.tokenHash)).toEqual(sessions.bobPhone);
  });

  it("never removes the last passkey: LAST_PASSKEY, and its sessions live on", async () => {
    const { account, store, ended, sessions, ada, phoneKey, tabletKey } = await setUp();
    await account.removePasskey({ approver: sessions.adaTablet, passkeyId: phoneKey.id });
    const endedBefore = ended.length;

    const refused = await appErrorOf(account.removePasskey({ approver: sessions.adaTablet, passkeyId: tabletKey.id }));
    expect(refused.code).toBe("LAST_PASSKEY");
    expect((await store.listCredentials(ada.user.id)).map(({ id }) => id)).toEqual([tabletKey.id]);
    expect(ended).toHaveLength(endedBefore);
    expect(await store.getSession(sessions.adaTablet.tokenHash)).not.toBeNull();
  });

  it("cannot remove someone else's passkey: NOT_FOUND, and their sessions live on", async () => {
    const { account, store, ended, sessions, bob } = await setUp();
    const refused = await appErrorOf(
      account.removePasskey({ approver: sessions.adaPhone, passkeyId: bob.passkeys[0]!.id }),
    );
    expect(refused.code).toBe("NOT_FOUND");
    expect(await store.getCredential(bob.passkeys[0]!.id)).not.toBeNull();
    expect(await store.getSession(sessions.bobPhone.tokenHash)).toEqual(sessions.bobPhone);
    expect(ended).toEqual([]);
  });
});

describe("listPasskeys", () => {
  it("lists only the person's own passkeys, oldest first", async () => {
    const { account, sessions, phoneKey, tabletKey } = await setUp();
    const listed = await account.listPasskeys({ approver: sessions.adaPhone });
    expect(listed.map(({ id, label }) => [id, label])).toEqual([
      [phoneKey.id, "Pixel 8 · Chrome"],
      [tabletKey.id, "iPad · Safari"],
    ]);
  });
});

describe("signOutComputers", () => {
  it("ends every computer session of the person, and no phone's nor anyone else's, in one line of activity", async () => {
    const { account, store, clock, ended, sessions, ada } = await setUp();
    expect(await account.signOutComputers({ approver: sessions.adaPhone })).toBe(2);
    expect(ended.map(({ session, reason }) => [session.id, reason])).toEqual([
      [sessions.adaDesktopViaPhone.id, "revoked"],
      [sessions.adaLaptopViaTablet.id, "revoked"],
    ]);
    expect((await store.listSessions(ada.user.id)).map(({ id }) => id)).toEqual([
      sessions.adaPhone.id,
      sessions.adaTablet.id,
    ]);
    expect(await store.listSessions(sessions.bobPhone.userId)).toEqual([sessions.bobPhone]);
    expect(await store.listActivity(ada.user.id)).toEqual([
      expect.objectContaining({
        at: clock.now(),
        kind: "session_signed_out",
        detail: `2 computers signed out from ${PHONE.label}`,
      }),
    ]);
  });

  it("records nothing when no computer was signed in", async () => {
    const { account, store, sessions } = await setUp();
    expect(await account.signOutComputers({ approver: sessions.bobPhone })).toBe(0);
    expect(await store.listActivity(sessions.bobPhone.userId)).toEqual([]);
  });
});
