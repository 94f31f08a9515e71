import { beforeEach, describe, expect, it } from "vitest";
import { AppError, DEFAULT_RATE_LIMITS, type RateLimitPolicies, type RateLimits } from "@countersign/server";
import { createFakeClock, type FakeClock } from "@countersign/server/testing";

const TEN_MINUTES = 10 * 60_000;

/** Three attempts per 10 minutes for every action, the production push limit's shape. */
export const THREE_PER_10_MINUTES = Object.fromEntries(
  Object.keys(DEFAULT_RATE_LIMITS).map((action) => [action, { points: 3, durationSeconds: 600 }]),
) as RateLimitPolicies;

/** What `promise` was refused with; fails the test if it was allowed or failed otherwise. */
export async function refusalOf(promise: Promise<void>): Promise<AppError> {
  const outcome = await promise.then(
    () => "allowed",
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(AppError);
  return outcome as AppError;
}

/**
 * The behaviour every RateLimits implementation must have, measured by the fake clock alone:
 * each implementation runs this suite, and the server relies on nothing it does not assert.
 */
export function describeRateLimitsContract(
  name: string,
  make: (options: { clock: FakeClock; policies: RateLimitPolicies }) => RateLimits,
): void {
  describe(`RateLimits contract: ${name}`, () => {
    let clock: FakeClock;
    let limits: RateLimits;

    beforeEach(() => {
      clock = createFakeClock();
      limits = make({ clock, policies: THREE_PER_10_MINUTES });
    });

    it("allows 3 in 10 minutes, refuses the 4th with Retry-After, and allows again after advance(10 minutes)", async () => {
      const attempt = (): Promise<void> => limits.consume({ action: "pushFromSource", key: "u1|198.51.100.0" });
      for (let index = 0; index < 3; index += 1) await expect(attempt()).resolves.toBeUndefined();
      const refused = await refusalOf(attempt());
      expect(refused.code).toBe("RATE_LIMITED");
      expect(refused.headers["Retry-After"]).toBe("600");
      clock.advance(TEN_MINUTES);
      await expect(attempt()).resolves.toBeUndefined();
    });

    it("keeps refusing until the last millisecond of the window, with Retry-After rounded up", async () => {
      const attempt = (): Promise<void> => limits.consume({ action: "createLogin", key: "203.0.113.7" });
      await attempt();
      clock.advance(4 * 60_000);
      await attempt();
      await attempt();
      expect((await refusalOf(attempt())).headers["Retry-After"]).toBe("360");
      clock.advance(6 * 60_000 - 1);
      expect((await refusalOf(attempt())).headers["Retry-After"]).toBe("1");
      // Refusals neither spend nor move the window: it ends 10 minutes after the first attempt.
      clock.advance(1);
      await expect(attempt()).resolves.toBeUndefined();
    });

    it("answers tryConsume with whether a point was left, without throwing", async () => {
      const attempt = (): Promise<boolean> => limits.tryConsume({ action: "pushToUser", key: "u1" });
      const answers = [await attempt(), await attempt(), await attempt(), await attempt()];
      expect(answers).toEqual([true, true, true, false]);
      clock.advance(TEN_MINUTES);
      expect(await attempt()).toBe(true);
    });

    it("gives each client key and each action a budget of its own", async () => {
      for (let index = 0; index < 3; index += 1) await limits.consume({ action: "enrol", key: "203.0.113.7" });
      await refusalOf(limits.consume({ action: "enrol", key: "203.0.113.7" }));
      await expect(limits.consume({ action: "enrol", key: "203.0.113.8" })).resolves.toBeUndefined();
      await expect(limits.consume({ action: "createLogin", key: "203.0.113.7" })).resolves.toBeUndefined();
    });

    it("follows each policy's own size and length", async () => {
      limits = make({ clock, policies: { ...THREE_PER_10_MINUTES, watchLogin: { points: 1, durationSeconds: 30 } } });
      await limits.consume({ action: "watchLogin", key: "203.0.113.7" });
      expect((await refusalOf(limits.consume({ action: "watchLogin", key: "203.0.113.7" }))).headers).toEqual({
        "Retry-After": "30",
      });
      clock.advance(30_000);
      await expect(limits.consume({ action: "watchLogin", key: "203.0.113.7" })).resolves.toBeUndefined();
    });
  });
}
