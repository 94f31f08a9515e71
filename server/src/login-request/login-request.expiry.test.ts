import { REDEEM_WINDOW_MS } from "@countersign/shared";
import { describe, expect, it, vi } from "vitest";
import { createEventChannel } from "../events/event-channel.js";
import { createMemoryStore } from "../store/memory.store.js";
import type { LoginRequestRecord } from "../store/store.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { loginRequestRecord, PHONE, settle } from "../testing/fixtures.js";
import type { LoginRequestChanged } from "./login-request.events.js";
import { createExpiryScheduler } from "./login-request.expiry.js";
import { createLoginRequestTransitions } from "./login-request.transitions.js";

/** The scheduler as the service wires it: it hears every change and expires through the transitions. */
function setUp(options: { expireIfDue?: (id: string) => Promise<unknown> } = {}) {
  const clock = createFakeClock();
  const store = createMemoryStore({ clock });
  const events = createEventChannel<LoginRequestChanged>();
  const transitions = createLoginRequestTransitions({ store, clock, events });
  const expireIfDue = vi.fn(options.expireIfDue ?? ((id: string) => transitions.expireIfDue(id)));
  const scheduler = createExpiryScheduler({ clock, events, expireIfDue });
  const expiries: LoginRequestChanged[] = [];
  events.subscribe((event) => void (event.after.status === "expired" && expiries.push(event)));
  const create = async (): Promise<LoginRequestRecord> => {
    const request = loginRequestRecord({ clock });
    expect(await transitions.create(request)).toBe("created");
    return request;
  };
  return { clock, store, transitions, scheduler, expireIfDue, expiries, create };
}

describe("createExpiryScheduler", () => {
  it("writes `expired` once and announces it once when the clock reaches expiresAt, with nobody reading", async () => {
    const { clock, store, expireIfDue, expiries, create } = setUp();
    const request = await create();

    clock.advance(request.expiresAt - clock.now() - 1);
    await settle();
    expect(expireIfDue).not.toHaveBeenCalled();
    expect((await store.getLoginRequest(request.id))?.status).toBe("pending");

    clock.advance(1);
    await settle();
    expect((await store.getLoginRequest(request.id))?.status).toBe("expired");
    expect(expiries).toHaveLength(1);

    clock.advance(10 * 60_000);
    await settle();
    expect(expireIfDue).toHaveBeenCalledTimes(1);
    expect(expiries).toHaveLength(1);
  });

  it("moves the deadline to redeemBy once approved, even past the request's own expiresAt", async () => {
    const { clock, store, transitions, expiries, create } = setUp();
    const request = await create();
    clock.advance(100_000);
    const scanned = await transitions.apply({ request, event: "scan" });
    const now = clock.now();
    await transitions.apply({
      request: scanned,
      event: "approve",
      change: () => ({ approvedAt: now, redeemBy: now + REDEEM_WINDOW_MS, userId: "user-ada", approver: PHONE }),
    });

    clock.advance(request.expiresAt - clock.now());
    await settle();
    expect((await store.getLoginRequest(request.id))?.status).toBe("approved");

    clock.advance(now + REDEEM_WINDOW_MS - clock.now());
    await settle();
    expect((await store.getLoginRequest(request.id))?.status).toBe("expired");
    expect(expiries).toHaveLength(1);
  });

  it("cancels a request's timer once it is decided: a denied request's time passing calls nothing", async () => {
    const { clock, store, transitions, expireIfDue, expiries, create } = setUp();
    const request = await create();
    await transitions.apply({ request, event: "deny" });

    clock.advance(request.expiresAt - clock.now() + 60_000);
    await settle();
    expect(expireIfDue).not.toHaveBeenCalled();
    expect(expiries).toEqual([]);
    expect((await store.getLoginRequest(request.id))?.status).toBe("denied");
  });

  it("keeps one timer per request however often it is watched", async () => {
    const { clock, scheduler, expireIfDue, create } = setUp();
    const request = await create();
    scheduler.watch(request);
    scheduler.watch(request);

    clock.advance(request.expiresAt - clock.now());
    await settle();
    expect(expireIfDue).toHaveBeenCalledTimes(1);
  });

  it("close() cancels every timer", async () => {
    const { clock, scheduler, expireIfDue, expiries, create } = setUp();
    const first = await create();
    await create();
    scheduler.close();

    clock.advance(first.expiresAt - clock.now() + 60_000);
    await settle();
    expect(expireIfDue).not.toHaveBeenCalled();
    expect(expiries).toEqual([]);
  });

  it("swallows a failed expiry in the timer (no caller to report to; the next read expires it)", async () => {
    const { clock, expireIfDue, create } = setUp({ expireIfDue: () => Promise.reject(new Error("store down")) });
    const request = await create();
    clock.advance(request.expiresAt - clock.now());
    await settle();
    expect(expireIfDue).toHaveBeenCalledTimes(1);
  });
});
