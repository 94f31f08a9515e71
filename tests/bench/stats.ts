/**
 * The statistics the benchmark's budgets rest on, small enough to check by hand: quantiles, a
 * Mann–Whitney U test, a bootstrap interval for a difference of medians, and the accuracy of the
 * best one-sample threshold classifier on held-out samples. Randomness arrives as a function, so
 * every figure is reproducible from the run's seed.
 */

/** Uniform in [0, 1). */
export type RandomSource = () => number;

/** A small, fast, seeded generator (mulberry32): reproducible shuffles and resamples. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A new array with the same elements in uniformly random order (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], random: RandomSource): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

function requireSamples(samples: readonly number[], name: string): void {
  if (samples.length === 0) throw new Error(`${name}: expected at least one sample, got none`);
  if (samples.some((value) => !Number.isFinite(value))) {
    throw new Error(`${name}: expected finite numbers, got ${samples.find((value) => !Number.isFinite(value))}`);
  }
}

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted`, interpolating linearly (R's type 7, numpy's default). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error("quantileOfSorted: expected at least one sample, got none");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantileOfSorted: expected q in [0, 1], got ${q}`);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

export function median(samples: readonly number[]): number {
  requireSamples(samples, "median");
  return medianInPlace(Float64Array.from(samples));
}

export interface Summary {
  count: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(samples: readonly number[]): Summary {
  requireSamples(samples, "summarise");
  const sorted = Float64Array.from(samples).sort();
  return {
    count: sorted.length,
    min: sorted[0]!,
    median: quantileOfSorted(sorted, 0.5),
    p90: quantileOfSorted(sorted, 0.9),
    p99: quantileOfSorted(sorted, 0.99),
    max: sorted[sorted.length - 1]!,
    mean: samples.reduce((sum, value) => sum + value, 0) / samples.length,
  };
}

/** The standard normal distribution's upper tail, P(Z > z). */
export function normalUpperTail(z: number): number {
  return erfc(z / Math.SQRT2) / 2;
}

/** Numerical Recipes' erfcc coefficients, lowest power first. */
const ERFC_COEFFICIENTS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
  0.17087277,
];

/** Complementary error function, relative error below 1.2e-7 everywhere (Numerical Recipes' erfcc). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + z / 2);
  const polynomial = ERFC_COEFFICIENTS.reduceRight((sum, coefficient) => coefficient + t * sum, 0);
  const result = t * Math.exp(-z * z + polynomial);
  return x >= 0 ? result : 2 - result;
}

export interface MannWhitneyResult {
  /** U of the first group: how many (a, b) pairs have a > b, ties counting one half. */
  u: number;
  /** u / (|a| |b|): the chance that a random a exceeds a random b (0.5: neither tends higher). */
  probabilityAGreater: number;
  z: number;
  /** Two-sided, from the normal approximation with tie and continuity corrections. */
  p: number;
}

/** The Mann–Whitney U (Wilcoxon rank-sum) test: does one group tend to take larger values? */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  requireSamples(a, "mannWhitneyU (first group)");
  requireSamples(b, "mannWhitneyU (second group)");
  const n1 = a.length;
  const n2 = b.length;
  const total = n1 + n2;
  const pooled = [...a.map((value) => ({ value, first: true })), ...b.map((value) => ({ value, first: false }))];
  pooled.sort((x, y) => x.value - y.value);
  let rankSumA = 0;
  let tieTerm = 0;
  for (let start = 0; start < total;) {
    let end = start;
    while (end + 1 < total && pooled[end + 1]!.value === pooled[start]!.value) end += 1;
    const tied = end - start + 1;
    // Ranks are 1-based; a run of ties shares the mean of its ranks.
    const rank = (start + end) / 2 + 1;
    for (let index = start; index <= end; index += 1) if (pooled[index]!.first) rankSumA += rank;
    tieTerm += tied ** 3 - tied;
    start = end + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (total + 1 - tieTerm / (total * (total - 1) || 1));
  const probabilityAGreater = u / (n1 * n2);
  if (variance <= 0) return { u, probabilityAGreater, z: 0, p: 1 };
  const deviation = Math.max(0, Math.abs(u - mean) - 0.5);
  const z = (Math.sign(u - mean) * deviation) / Math.sqrt(variance);
  return { u, probabilityAGreater, z, p: Math.min(1, 2 * normalUpperTail(Math.abs(z))) };
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
  confidence: number;
}

/**
 * median(a) − median(b) with a percentile bootstrap interval: resample each group with
 * replacement `resamples` times (default 2000) at `confidence` (default 0.95).
 */
export function bootstrapMedianDifference(options: {
  a: readonly number[];
  b: readonly number[];
  random: RandomSource;
  resamples?: number;
  confidence?: number;
}): Interval {
  const { a, b, random } = options;
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  requireSamples(a, "bootstrapMedianDifference (a)");
  requireSamples(b, "bootstrapMedianDifference (b)");
  if (!Number.isInteger(resamples) || resamples < 10) {
    throw new Error(`bootstrapMedianDifference: expected resamples to be an integer ≥ 10, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new Error(`bootstrapMedianDifference: expected confidence in (0, 1), got ${confidence}`);
  }
  const scratchA = new Float64Array(a.length);
  const scratchB = new Float64Array(b.length);
  const resample = (source: readonly number[], scratch: Float64Array): number => {
    for (let index = 0; index < scratch.length; index += 1)
      scratch[index] = source[Math.floor(random() * source.length)]!;
    return medianInPlace(scratch);
  };
  const differences = new Float64Array(resamples);
  for (let index = 0; index < resamples; index += 1) {
    differences[index] = resample(a, scratchA) - resample(b, scratchB);
  }
  differences.sort();
  const tail = (1 - confidence) / 2;
  return {
    estimate: median(a) - median(b),
    low: quantileOfSorted(differences, tail),
    high: quantileOfSorted(differences, 1 - tail),
    confidence,
  };
}

export interface ThresholdClassifierResult {
  /**
   * Balanced accuracy on samples the threshold was not fitted on, averaged over both halves
   * (fit on one, test on the other, and the other way round). About 0.5 when the groups do not
   * differ; the probe's "single-sample distinguisher" figure.
   */
  heldOutAccuracy: number;
  /** The same for each fold, in order. */
  folds: { threshold: number; positivesAbove: boolean; trainingAccuracy: number; heldOutAccuracy: number }[];
}

/**
 * How well one sample tells the groups apart: the best rule "positive if x > t" (or "x < t"),
 * fitted on a random half of each group and scored on the other half, so luck in fitting does
 * not count. Balanced accuracy ((TPR + TNR) / 2) keeps unequal group sizes from mattering.
 */
export function thresholdClassifier(options: {
  positives: readonly number[];
  negatives: readonly number[];
  random: RandomSource;
}): ThresholdClassifierResult {
  const { positives, negatives, random } = options;
  requireSamples(positives, "thresholdClassifier (positives)");
  requireSamples(negatives, "thresholdClassifier (negatives)");
  if (positives.length < 2 || negatives.length < 2) {
    throw new Error(
      `thresholdClassifier: expected at least 2 samples per group to split, got ${positives.length} and ${negatives.length}`,
    );
  }
  const halve = (samples: readonly number[]): [number[], number[]] => {
    const order = shuffled(samples, random);
    const middle = Math.floor(order.length / 2);
    return [order.slice(0, middle), order.slice(middle)];
  };
  const [positivesA, positivesB] = halve(positives);
  const [negativesA, negativesB] = halve(negatives);
  const folds = [
    { train: [positivesA, negativesA], test: [positivesB, negativesB] },
    { train: [positivesB, negativesB], test: [positivesA, negativesA] },
  ].map(({ train, test }) => {
    const fitted = fitThreshold(train[0]!, train[1]!);
    return { ...fitted, heldOutAccuracy: scoreThreshold({ ...fitted, positives: test[0]!, negatives: test[1]! }) };
  });
  return {
    heldOutAccuracy: folds.reduce((sum, fold) => sum + fold.heldOutAccuracy, 0) / folds.length,
    folds,
  };
}

/** The threshold and side with the best balanced accuracy on these samples. */
function fitThreshold(
  positives: readonly number[],
  negatives: readonly number[],
): { threshold: number; positivesAbove: boolean; trainingAccuracy: number } {
  const pooled = [
    ...positives.map((value) => ({ value, positive: true })),
    ...negatives.map((value) => ({ value, positive: false })),
  ].sort((x, y) => x.value - y.value);
  // Threshold below everything: all "above", so TPR 1 and TNR 0 for "positives above".
  let best = { threshold: pooled[0]!.value - 1, positivesAbove: true, trainingAccuracy: 0.5 };
  let positivesAtOrBelow = 0;
  let negativesAtOrBelow = 0;
  for (let index = 0; index < pooled.length; index += 1) {
    if (pooled[index]!.positive) positivesAtOrBelow += 1;
    else negativesAtOrBelow += 1;
    const next = pooled[index + 1];
    // Only between distinct values: a threshold cannot split ties.
    if (next !== undefined && next.value === pooled[index]!.value) continue;
    const threshold = next === undefined ? pooled[index]!.value : (pooled[index]!.value + next.value) / 2;
    const truePositiveRate = 1 - positivesAtOrBelow / positives.length;
    const trueNegativeRate = negativesAtOrBelow / negatives.length;
    const above = (truePositiveRate + trueNegativeRate) / 2;
    if (above > best.trainingAccuracy) best = { threshold, positivesAbove: true, trainingAccuracy: above };
    if (1 - above > best.trainingAccuracy) best = { threshold, positivesAbove: false, trainingAccuracy: 1 - above };
  }
  return best;
}

function scoreThreshold(options: {
  threshold: number;
  positivesAbove: boolean;
  positives: readonly number[];
  negatives: readonly number[];
}): number {
  const { threshold, positivesAbove } = options;
  const saysPositive = (value: number): boolean => value > threshold === positivesAbove;
  const truePositiveRate = options.positives.filter(saysPositive).length / options.positives.length;
  const trueNegativeRate = options.negatives.filter((value) => !saysPositive(value)).length / options.negatives.length;
  return (truePositiveRate + trueNegativeRate) / 2;
}

/** The median of `values`, reordering them (quickselect, linear time on average). */
function medianInPlace(values: Float64Array): number {
  const n = values.length;
  const upper = selectInPlace(values, Math.floor(n / 2));
  if (n % 2 === 1) return upper;
  // After selection, everything left of n/2 is ≤ upper: the lower middle is their maximum.
  let lower = -Infinity;
  for (let index = 0; index < n / 2; index += 1) lower = Math.max(lower, values[index]!);
  return (lower + upper) / 2;
}

/** The k-th smallest value (0-based), partially sorting `values` around it (Hoare's quickselect). */
function selectInPlace(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  while (left < right) {
    const pivot = values[(left + right) >>> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i += 1;
      while (values[j]! > pivot) j -= 1;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i += 1;
        j -= 1;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k]!;
}

export interface PermutationBaseline {
  /** Held-out accuracies with the group labels shuffled, ascending: what chance alone reaches. */
  accuracies: number[];
  mean: number;
  /** The 95th percentile of `accuracies`: the baseline a budget adds its margin to. */
  p95: number;
}

/**
 * What thresholdClassifier scores when the groups cannot differ: the pooled samples relabelled at
 * random into groups of the same sizes, `permutations` times (default 100). A real accuracy is
 * read against this, not against 50%, since fitting on finite samples scores a little above or
 * below it by chance.
 */
export function permutationBaseline(options: {
  positives: readonly number[];
  negatives: readonly number[];
  random: RandomSource;
  permutations?: number;
}): PermutationBaseline {
  const { positives, negatives, random } = options;
  const permutations = options.permutations ?? 100;
  if (!Number.isInteger(permutations) || permutations < 1) {
    throw new Error(`permutationBaseline: expected permutations to be a positive integer, got ${permutations}`);
  }
  const pooled = [...positives, ...negatives];
  const accuracies = Array.from({ length: permutations }, () => {
    const relabelled = shuffled(pooled, random);
    return thresholdClassifier({
      positives: relabelled.slice(0, positives.length),
      negatives: relabelled.slice(positives.length),
      random,
    }).heldOutAccuracy;
  }).sort((a, b) => a - b);
  return {
    accuracies,
    mean: accuracies.reduce((sum, value) => sum + value, 0) / accuracies.length,
    p95: quantileOfSorted(accuracies, 0.95),
  };
}
