import { describe, expect, it } from "vitest";
import {
  bootstrapMedianDifference,
  mannWhitneyU,
  median,
  normalUpperTail,
  permutationBaseline,
  quantileOfSorted,
  seededRandom,
  shuffled,
  summarise,
  thresholdClassifier,
} from "./stats.js";

/** Normal samples (Box–Muller) from a seeded source, so every run sees the same data. */
function normalSamples(options: { count: number; mean: number; sd: number; seed: number }): number[] {
  const random = seededRandom(options.seed);
  return Array.from({ length: options.count }, () => {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    return options.mean + options.sd * radius * Math.cos(2 * Math.PI * random());
  });
}

describe("seededRandom", () => {
  it("repeats its sequence for a seed and stays in [0, 1)", () => {
    const first = seededRandom(42);
    const second = seededRandom(42);
    const values = Array.from({ length: 1000 }, () => first());
    expect(values).toEqual(Array.from({ length: 1000 }, () => second()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });

  it("shuffles into a permutation of the input", () => {
    const items = Array.from({ length: 50 }, (_, index) => index);
    const order = shuffled(items, seededRandom(1));
    expect(order).not.toEqual(items);
    expect([...order].sort((a, b) => a - b)).toEqual(items);
  });
});

describe("quantiles", () => {
  it("interpolates like numpy's default (R type 7)", () => {
    expect(quantileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 12);
    expect(quantileOfSorted([7], 0.9)).toBe(7);
    expect(median([3, 1, 2, 4])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
  });

  it("agrees with a sorted median on data full of ties", () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 200; trial += 1) {
      const values = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 6));
      const sorted = [...values].sort((a, b) => a - b);
      expect(median(values), JSON.stringify(values)).toBe(quantileOfSorted(sorted, 0.5));
    }
  });

  it("summarises count, median, p90 and p99", () => {
    const summary = summarise([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
    expect(summary).toMatchObject({ count: 10, min: 1, median: 5.5, max: 10, mean: 5.5 });
    expect(summary.p90).toBeCloseTo(9.1, 12);
    expect(summary.p99).toBeCloseTo(9.91, 12);
  });

  it("refuses empty or non-finite samples, saying what it got", () => {
    expect(() => median([])).toThrow(/at least one sample, got none/);
    expect(() => summarise([1, Number.NaN])).toThrow(/finite numbers, got NaN/);
    expect(() => quantileOfSorted([1, 2], 1.5)).toThrow(/q in \[0, 1\], got 1.5/);
  });
});

describe("normalUpperTail", () => {
  it("matches the normal distribution's known tail values", () => {
    expect(normalUpperTail(1.959963984540054)).toBeCloseTo(0.025, 7);
    expect(normalUpperTail(3.2905267314919255)).toBeCloseTo(0.0005, 8);
    expect(normalUpperTail(-1)).toBeCloseTo(0.8413447460685429, 7);
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
  });
});

describe("mannWhitneyU", () => {
  // Reference p-values: scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True).
  it("matches scipy on fully separated groups", () => {
    const result = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(result.u).toBe(0);
    expect(result.probabilityAGreater).toBe(0);
    expect(result.p).toBeCloseTo(0.012185780355344813, 6);
  });

  it("matches scipy with ties (tie-corrected variance)", () => {
    const result = mannWhitneyU([1, 2, 2, 3, 3, 3, 5], [2, 3, 3, 4, 4, 6]);
    expect(result.u).toBe(12);
    expect(result.p).toBeCloseTo(0.20829634087858218, 6);
  });

  it("matches scipy on unequal group sizes", () => {
    const result = mannWhitneyU([1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8], [2, 3, 9, 10, 11]);
    expect(result.u).toBe(13);
    expect(result.p).toBeCloseTo(0.341349313954759, 6);
  });

  it("is symmetric: swapping the groups mirrors U and keeps p", () => {
    const a = normalSamples({ count: 300, mean: 1, sd: 0.2, seed: 1 });
    const b = normalSamples({ count: 200, mean: 1.05, sd: 0.2, seed: 2 });
    const forward = mannWhitneyU(a, b);
    const backward = mannWhitneyU(b, a);
    expect(forward.u + backward.u).toBe(a.length * b.length);
    expect(forward.p).toBeCloseTo(backward.p, 12);
    expect(forward.z).toBeCloseTo(-backward.z, 12);
  });

  it("gives p = 1 when every value is tied", () => {
    expect(mannWhitneyU([2, 2, 2], [2, 2]).p).toBe(1);
  });

  it("finds no difference between two draws from one distribution, and a clear one after a shift", () => {
    const a = normalSamples({ count: 2000, mean: 1, sd: 0.3, seed: 3 });
    const same = normalSamples({ count: 2000, mean: 1, sd: 0.3, seed: 4 });
    const shifted = normalSamples({ count: 2000, mean: 1.1, sd: 0.3, seed: 5 });
    expect(mannWhitneyU(a, same).p).toBeGreaterThan(0.01);
    expect(mannWhitneyU(a, shifted).p).toBeLessThan(1e-6);
    expect(mannWhitneyU(shifted, a).probabilityAGreater).toBeGreaterThan(0.55);
  });
});

describe("bootstrapMedianDifference", () => {
  it("covers the true shift and is reproducible from its seed", () => {
    const a = normalSamples({ count: 1000, mean: 2.5, sd: 0.5, seed: 6 });
    const b = normalSamples({ count: 1000, mean: 2, sd: 0.5, seed: 7 });
    const interval = bootstrapMedianDifference({ a, b, random: seededRandom(9), resamples: 500 });
    expect(interval.estimate).toBeCloseTo(median(a) - median(b), 12);
    expect(interval.low).toBeLessThan(0.5);
    expect(interval.high).toBeGreaterThan(0.5);
    expect(interval.high - interval.low).toBeLessThan(0.2);
    expect(bootstrapMedianDifference({ a, b, random: seededRandom(9), resamples: 500 })).toEqual(interval);
  });

  it("contains zero for two draws from one distribution", () => {
    const a = normalSamples({ count: 1000, mean: 2, sd: 0.5, seed: 10 });
    const b = normalSamples({ count: 1000, mean: 2, sd: 0.5, seed: 11 });
    const interval = bootstrapMedianDifference({ a, b, random: seededRandom(12), resamples: 500 });
    expect(interval.low).toBeLessThan(0);
    expect(interval.high).toBeGreaterThan(0);
  });

  it("refuses too few resamples or a confidence outside (0, 1)", () => {
    const random = seededRandom(1);
    expect(() => bootstrapMedianDifference({ a: [1], b: [2], random, resamples: 5 })).toThrow(/got 5/);
    expect(() => bootstrapMedianDifference({ a: [1], b: [2], random, confidence: 1 })).toThrow(/got 1/);
  });
});

describe("thresholdClassifier", () => {
  it("scores about one half on held-out samples when the groups do not differ", () => {
    const result = thresholdClassifier({
      positives: normalSamples({ count: 2000, mean: 1, sd: 0.3, seed: 13 }),
      negatives: normalSamples({ count: 2000, mean: 1, sd: 0.3, seed: 14 }),
      random: seededRandom(15),
    });
    // Fitting always finds some threshold that looks better than chance on its own half...
    expect(Math.max(...result.folds.map((fold) => fold.trainingAccuracy))).toBeGreaterThan(0.5);
    // ...but on the other half it is chance, give or take the noise of 2000 samples.
    expect(result.heldOutAccuracy).toBeGreaterThan(0.46);
    expect(result.heldOutAccuracy).toBeLessThan(0.54);
  });

  it("reaches the theoretical accuracy for a known shift, whichever group is slower", () => {
    // Two normals one SD apart: the best threshold (halfway) is right with Φ(0.5) ≈ 0.691.
    const slow = normalSamples({ count: 4000, mean: 2, sd: 1, seed: 16 });
    const fast = normalSamples({ count: 4000, mean: 1, sd: 1, seed: 17 });
    const positivesSlower = thresholdClassifier({ positives: slow, negatives: fast, random: seededRandom(18) });
    const positivesFaster = thresholdClassifier({ positives: fast, negatives: slow, random: seededRandom(18) });
    expect(positivesSlower.heldOutAccuracy).toBeCloseTo(0.691, 1);
    expect(positivesFaster.heldOutAccuracy).toBeCloseTo(0.691, 1);
    expect(positivesSlower.folds.every((fold) => fold.positivesAbove)).toBe(true);
    expect(positivesFaster.folds.every((fold) => !fold.positivesAbove)).toBe(true);
    expect(positivesSlower.folds[0]!.threshold).toBeCloseTo(1.5, 0);
  });

  it("separates perfectly separated groups perfectly", () => {
    const result = thresholdClassifier({ positives: [5, 6, 7, 8], negatives: [1, 2, 3, 4], random: seededRandom(1) });
    expect(result.heldOutAccuracy).toBe(1);
  });

  it("cannot split ties: identical constant groups score one half", () => {
    const result = thresholdClassifier({ positives: [1, 1, 1, 1], negatives: [1, 1, 1, 1], random: seededRandom(1) });
    expect(result.heldOutAccuracy).toBe(0.5);
  });

  it("needs two samples per group to hold half out", () => {
    expect(() => thresholdClassifier({ positives: [1], negatives: [1, 2], random: seededRandom(1) })).toThrow(
      /at least 2 samples per group to split, got 1 and 2/,
    );
  });
});

describe("permutationBaseline", () => {
  it("scores shuffled labels near chance, whatever the real groups' difference", () => {
    const positives = normalSamples({ count: 500, mean: 2, sd: 0.3, seed: 11 });
    const negatives = normalSamples({ count: 500, mean: 1, sd: 0.3, seed: 12 });
    const baseline = permutationBaseline({ positives, negatives, random: seededRandom(13), permutations: 50 });
    expect(baseline.accuracies).toHaveLength(50);
    expect(baseline.mean).toBeGreaterThan(0.46);
    expect(baseline.mean).toBeLessThan(0.54);
    expect(baseline.p95).toBeGreaterThanOrEqual(baseline.mean);
    expect(baseline.p95).toBeLessThan(0.58);
    // The real labels, by contrast, separate almost perfectly.
    expect(thresholdClassifier({ positives, negatives, random: seededRandom(14) }).heldOutAccuracy).toBeGreaterThan(
      0.9,
    );
  });

  it("refuses a number of permutations that is not a positive integer", () => {
    expect(() =>
      permutationBaseline({ positives: [1, 2], negatives: [3, 4], random: seededRandom(1), permutations: 0 }),
    ).toThrow(/positive integer, got 0/);
  });
});
