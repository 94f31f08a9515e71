import { describe, expect, it } from "vitest";
import { analyseComparison, COMPARISONS, PUSH_GROUPS, type PushGroup } from "./push-timing.analysis.js";
import { seededRandom } from "./stats.js";

const budgeted = COMPARISONS.find((comparison) => comparison.budgeted)!;
const unbudgeted = COMPARISONS.find((comparison) => !comparison.budgeted)!;

/** Normal response times (ms) for every group, with `shiftMs` added to the existing-name groups. */
function samples(options: { count: number; sd: number; shiftMs: number; seed: number }): Record<PushGroup, number[]> {
  const random = seededRandom(options.seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Object.fromEntries(
    PUSH_GROUPS.map((group) => [
      group,
      Array.from(
        { length: options.count },
        () => 1 + options.sd * normal() + (group.startsWith("existing") ? options.shiftMs : 0),
      ),
    ]),
  ) as Record<PushGroup, number[]>;
}

const verdicts = (data: Record<PushGroup, number[]>, comparison = budgeted): boolean[] =>
  analyseComparison({ store: "memory", comparison, samples: data, random: seededRandom(1) }).budgets.map(
    (check) => check.passed,
  );

describe("push timing budgets", () => {
  it("pass when existing and unknown names take the same time", () => {
    expect(verdicts(samples({ count: 2000, sd: 0.3, shiftMs: 0, seed: 1 }))).toEqual([true, true]);
  });

  it("fail on a leak like the probe's: existing names half a millisecond slower", () => {
    expect(verdicts(samples({ count: 2000, sd: 0.3, shiftMs: 0.5, seed: 2 }))).toEqual([false, false]);
  });

  it("let a significant shift pass while it stays under 0.2 ms and single samples cannot use it", () => {
    // 0.005 ms against 0.05 ms of noise: a threshold is right about 52% of the time.
    const analysis = analyseComparison({
      store: "memory",
      comparison: budgeted,
      samples: samples({ count: 4000, sd: 0.05, shiftMs: 0.005, seed: 3 }),
      random: seededRandom(1),
    });
    expect(analysis.mannWhitney.p).toBeLessThan(0.001);
    expect(analysis.budgets.map((check) => check.passed)).toEqual([true, true]);
  });

  it("fail a shift single samples can tell apart even when it is under 0.2 ms", () => {
    // 0.1 ms against 0.05 ms of noise: a threshold is right about 84% of the time.
    expect(verdicts(samples({ count: 2000, sd: 0.05, shiftMs: 0.1, seed: 4 }))).toEqual([false, true]);
  });

  it("checks no budget on the comparison that is only reported", () => {
    expect(verdicts(samples({ count: 200, sd: 0.3, shiftMs: 0.5, seed: 5 }), unbudgeted)).toEqual([]);
  });
});
