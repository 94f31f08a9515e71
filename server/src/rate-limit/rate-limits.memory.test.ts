import { describe, expect, it } from "vitest";
import { AppError } from "../app-error.js";
import { createFakeClock, type FakeClock } from "../testing/fake-clock.js";
import { DEFAULT_RATE_LIMITS, type RateLimitPolicies, type RateLimits } from "./rate-limits.js";
import { createMemoryRateLimits } from "./rate-limits.memory.js";

const TEN_MINUTES = 10 * 60_000;

/** Three attempts per 10 minutes for every action. */
const THREE_PER_10_MINUTES = Object.fromEntries(
  Object.keys(DEFAULT_RATE_LIMITS).map((action) => [action, { points: 3, durationSeconds: 600 }]),
) as RateLimitPolicies;

function setUp(): { clock: FakeClock; limits: RateLimits } {
  const clock = createFakeClock();
  return { clock, limits: createMemoryRateLimits({ clock, policies: THREE_PER_10_MINUTES }) };
}

async function refusal(promise: Promise<void>): Promise<AppError> {
  const outcome = await promise.then(
    () => null,
    (error: unknown) => error,
  );
  if (!(outcome instanceof AppError)) throw new Error(`expected an AppError, got ${String(outcome)}`);
  return outcome;
}

describe("memory rate limits on the injected clock", () => {
  it("allows 3 in 10 minutes, refuses the 4th with Retry-After, and allows again once the window has passed", async () => {
    const { clock, limits } = setUp();
    const attempt = (): Promise<void> => limits.consume({ action: "pushFromSource", key: "u1|198.51.100.0" });
    for (let index = 0; index < 3; index += 1) await expect(attempt()).resolves.toBeUndefined();

    const refused = await refusal(attempt());
    expect(refused.code).toBe("RATE_LIMITED");
    expect(refused.headers["Retry-After"]).toBe("600");

    clock.advance(TEN_MINUTES - 1);
    expect((await refusal(attempt())).headers["Retry-After"]).toBe("1");
    clock.advance(1);
    await expect(attempt()).resolves.toBeUndefined();
  });

  it("counts down Retry-After to the end of the window that opened at the first attempt", async () => {
    const { clock, limits } = setUp();
    const attempt = (): Promise<void> => limits.consume({ action: "createLogin", key: "203.0.113.7" });
    await attempt();
    clock.advance(4 * 60_000);
    await attempt();
    await attempt();
    expect((await refusal(attempt())).headers["Retry-After"]).toBe("360");
    // Refusals spend nothing and move nothing: the window still ends 10 minutes after the first.
    clock.advance(6 * 60_000);
    await expect(attempt()).resolves.toBeUndefined();
  });

  it("answers tryConsume with false instead of throwing when no point is left", async () => {
    const { clock, limits } = setUp();
    const attempt = (): Promise<boolean> => limits.tryConsume({ action: "pushToUser", key: "u1" });
    expect([await attempt(), await attempt(), await attempt(), await attempt()]).toEqual([true, true, true, false]);
    clock.advance(TEN_MINUTES);
    expect(await attempt()).toBe(true);
  });

  it("gives each key and each action a budget of its own", async () => {
    const { limits } = setUp();
    for (let index = 0; index < 3; index += 1) await limits.consume({ action: "createLogin", key: "203.0.113.7" });
    await expect(limits.consume({ action: "createLogin", key: "203.0.113.7" })).rejects.toThrow(AppError);
    await expect(limits.consume({ action: "createLogin", key: "203.0.113.8" })).resolves.toBeUndefined();
    await expect(limits.consume({ action: "enrol", key: "203.0.113.7" })).resolves.toBeUndefined();
  });

  it("starts a fresh window for a key whose window ended while others were still open", async () => {
    const { clock, limits } = setUp();
    for (let index = 0; index < 3; index += 1) await limits.consume({ action: "enrol", key: "early" });
    clock.advance(5 * 60_000);
    for (let index = 0; index < 3; index += 1) await limits.consume({ action: "enrol", key: "late" });
    clock.advance(5 * 60_000);
    // "early" has ended and been dropped; "late" still has 5 minutes to go.
    for (let index = 0; index < 3; index += 1) await limits.consume({ action: "enrol", key: "early" });
    expect((await refusal(limits.consume({ action: "enrol", key: "late" }))).headers["Retry-After"]).toBe("300");
    await expect(limits.consume({ action: "enrol", key: "early" })).rejects.toThrow(AppError);
  });

  it("refuses a policy that could never allow anything or never end", () => {
    const clock = createFakeClock();
    expect(() =>
      createMemoryRateLimits({
        clock,
        policies: { ...DEFAULT_RATE_LIMITS, enrol: { points: 0, durationSeconds: 60 } },
      }),
    ).toThrow("Rate limit enrol: points must be a positive integer, got 0");
    expect(() =>
      createMemoryRateLimits({ clock, policies: { ...DEFAULT_RATE_LIMITS, enrol: { points: 3, durationSeconds: 0 } } }),
    ).toThrow("Rate limit enrol: durationSeconds must be at least 1 ms, got 0");
    expect(() =>
      createMemoryRateLimits({
        clock,
        policies: { ...DEFAULT_RATE_LIMITS, enrol: { points: 3, durationSeconds: 1e-4 } },
      }),
    ).toThrow("Rate limit enrol: durationSeconds must be at least 1 ms, got 0.0001");
  });
});
