import { REDEEM_WINDOW_MS, type DenyReason } from "@countersign/shared";
import { describe, expect, it } from "vitest";
import { createEventChannel } from "../events/event-channel.js";
import type { LoginRequestChanged } from "../login-request/login-request.events.js";
import { createLoginRequestTransitions } from "../login-request/login-request.transitions.js";
import { createMemoryStore } from "../store/memory.store.js";
import type { LoginRequestRecord } from "../store/store.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { DESKTOP, enrolPerson, loginRequestRecord, PHONE } from "../testing/fixtures.js";
import { recordLoginActivity } from "./account.activity.js";

/** Activity as it is wired: listening to login-request events, changes made through the transitions. */
async function setUp() {
  const clock = createFakeClock();
  const store = createMemoryStore({ clock });
  const loginEvents = createEventChannel<LoginRequestChanged>();
  recordLoginActivity({ store, clock, loginEvents });
  const transitions = createLoginRequestTransitions({ store, clock, events: loginEvents });
  const { user: ada, passkeys } = await enrolPerson({
    store,
    clock,
    username: "ada",
    passkeyLabels: ["Pixel 8 · Chrome", "YubiKey 5"],
  });
  const newRequest = async (): Promise<LoginRequestRecord> => {
    const request = loginRequestRecord({ clock });
    await transitions.create(request);
    return transitions.apply({ request, event: "scan", change: () => ({ scannedAt: clock.now(), scannedBy: PHONE }) });
  };
  const deny = (request: LoginRequestRecord, reason: DenyReason, actorUserId: string | null) =>
    transitions.apply({ request, event: "deny", change: () => ({ denyReason: reason, approver: PHONE }), actorUserId });
  return { clock, store, transitions, ada, passkeys, newRequest, deny };
}

describe("recordLoginActivity", () => {
  it("records an approval in the approver's activity, naming the passkey used", async () => {
    const { clock, store, transitions, ada, passkeys, newRequest } = await setUp();
    const scanned = await newRequest();
    clock.advance(4_000);
    const now = clock.now();
    await transitions.apply({
      request: scanned,
      event: "approve",
      change: () => ({
        approvedAt: now,
        redeemBy: now + REDEEM_WINDOW_MS,
        userId: ada.id,
        credentialId: passkeys[1]!.id,
        approver: PHONE,
      }),
      actorUserId: ada.id,
    });
    expect(await store.listActivity(ada.id)).toEqual([
      { at: now, kind: "login_approved", loginRequestId: scanned.id, context: DESKTOP, detail: "YubiKey 5" },
    ]);
  });

  it.each([
    ["cancelled", "login_denied"],
    ["number_mismatch", "login_denied"],
    ["not_me", "fraud_reported"],
  ] as const)("records a %s denial by a signed-in phone as %s in that person's activity", async (reason, kind) => {
    const { clock, store, ada, newRequest, deny } = await setUp();
    const scanned = await newRequest();
    clock.advance(2_000);
    await deny(scanned, reason, ada.id);
    expect(await store.listActivity(ada.id)).toEqual([
      { at: clock.now(), kind, loginRequestId: scanned.id, context: DESKTOP, detail: reason },
    ]);
  });

  it("records nothing for a denial by an anonymous phone", async () => {
    const { store, ada, newRequest, deny } = await setUp();
    await deny(await newRequest(), "not_me", null);
    expect(await store.listActivity(ada.id)).toEqual([]);
  });

  it("records nothing for scans, cancels, supersedes, expiries, or a change that keeps the status", async () => {
    const { clock, store, transitions, ada, newRequest } = await setUp();
    const rescanned = await newRequest();
    await transitions.apply({ request: rescanned, event: "scan", actorUserId: ada.id });
    await transitions.apply({ request: await newRequest(), event: "cancel", actorUserId: ada.id });
    await transitions.apply({ request: await newRequest(), event: "supersede", actorUserId: ada.id });
    const expiring = await newRequest();
    clock.advance(expiring.expiresAt - clock.now());
    await transitions.expireIfDue(expiring.id);
    expect(await store.listActivity(ada.id)).toEqual([]);
  });

  it("records the approval once: the redeem that follows adds nothing", async () => {
    const { clock, store, transitions, ada, passkeys, newRequest } = await setUp();
    const now = clock.now();
    const approved = await transitions.apply({
      request: await newRequest(),
      event: "approve",
      change: () => ({
        approvedAt: now,
        redeemBy: now + REDEEM_WINDOW_MS,
        userId: ada.id,
        credentialId: passkeys[0]!.id,
      }),
      actorUserId: ada.id,
    });
    await transitions.apply({ request: approved, event: "redeem" });
    expect((await store.listActivity(ada.id)).map(({ kind }) => kind)).toEqual(["login_approved"]);
  });
});
