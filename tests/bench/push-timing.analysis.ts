import type { BudgetCheck, ScenarioResult } from "./scenario.js";
import {
  bootstrapMedianDifference,
  mannWhitneyU,
  permutationBaseline,
  summarise,
  thresholdClassifier,
  type Interval,
  type MannWhitneyResult,
  type PermutationBaseline,
  type RandomSource,
  type Summary,
  type ThresholdClassifierResult,
} from "./stats.js";

/**
 * The budgets (issue: push sign-in must not tell existing from unknown names by response time).
 * The probe that found the leak classified single samples (82% with Redis, 59% with memory); a
 * single sample may tell them apart no better than the same classifier does with the labels
 * shuffled (the 95th percentile of that, so chance alone rarely fails a run) plus 3 points (issue 14).
 */
export const PUSH_TIMING_BUDGETS = {
  maxAccuracyAboveBaseline: 0.03,
  /** A median shift fails only if it is both this significant and this large. */
  minSignificantP: 0.001,
  maxMedianDifferenceMs: 0.2,
} as const;

/** The four kinds of request a run interleaves. */
export type PushGroup = "existingAgain" | "unknownAgain" | "existingFirst" | "unknownFirst";
export const PUSH_GROUPS: readonly PushGroup[] = ["existingAgain", "unknownAgain", "existingFirst", "unknownFirst"];

interface Comparison {
  name: string;
  existing: PushGroup;
  unknown: PushGroup;
  /** Whether its budgets decide the run, and why (not). */
  budgeted: boolean;
  why: string;
}

/**
 * A push leaves state behind for its target (the pending push from this network, which the next
 * push from here supersedes), for unknown names as for real ones. Comparing like with like means
 * comparing names with the same history, which the requester knows and chooses: so one existing
 * and one unknown name each pushed again and again, and names that have never been pushed.
 */
export const COMPARISONS: readonly Comparison[] = [
  {
    name: "same name again",
    existing: "existingAgain",
    unknown: "unknownAgain",
    budgeted: true,
    why: "one existing and one unknown name, each pushed again and again",
  },
  {
    name: "first push to a name",
    existing: "existingFirst",
    unknown: "unknownFirst",
    budgeted: true,
    why: "names never pushed before: a fresh account each time vs a fresh unknown name each time",
  },
  {
    name: "as the probe did",
    existing: "existingAgain",
    unknown: "unknownFirst",
    budgeted: false,
    why:
      "the existing name again vs fresh unknown names: not budgeted, since only one side has a pending push " +
      "to supersede, a difference the requester made and knows of, not whether the name exists",
  },
];

export interface ComparisonAnalysis {
  comparison: string;
  budgeted: boolean;
  samples: { existing: number; unknown: number };
  existing: Summary;
  unknown: Summary;
  /** median(existing) − median(unknown), ms. */
  medianDifferenceMs: Interval;
  mannWhitney: MannWhitneyResult;
  classifier: ThresholdClassifierResult;
  baseline: Omit<PermutationBaseline, "accuracies">;
  budgets: BudgetCheck[];
}

export function analyseComparison(options: {
  store: string;
  comparison: Comparison;
  samples: Record<PushGroup, number[]>;
  random: RandomSource;
}): ComparisonAnalysis {
  const { comparison, random } = options;
  const existing = options.samples[comparison.existing];
  const unknown = options.samples[comparison.unknown];
  const medianDifferenceMs = bootstrapMedianDifference({ a: existing, b: unknown, random });
  const mannWhitney = mannWhitneyU(existing, unknown);
  const classifier = thresholdClassifier({ positives: existing, negatives: unknown, random });
  const { mean, p95 } = permutationBaseline({ positives: existing, negatives: unknown, random });
  const { maxAccuracyAboveBaseline, minSignificantP, maxMedianDifferenceMs } = PUSH_TIMING_BUDGETS;
  const maxAccuracy = p95 + maxAccuracyAboveBaseline;
  const shiftTooLarge =
    mannWhitney.p < minSignificantP && Math.abs(medianDifferenceMs.estimate) > maxMedianDifferenceMs;
  const subject = `${options.store}, ${comparison.name}`;
  return {
    comparison: comparison.name,
    budgeted: comparison.budgeted,
    samples: { existing: existing.length, unknown: unknown.length },
    existing: summarise(existing),
    unknown: summarise(unknown),
    medianDifferenceMs,
    mannWhitney,
    classifier,
    baseline: { mean, p95 },
    budgets: comparison.budgeted
      ? [
          {
            budget: `held-out single-sample accuracy ≤ permutation baseline + ${maxAccuracyAboveBaseline * 100} points`,
            subject,
            passed: classifier.heldOutAccuracy <= maxAccuracy,
            detail: `accuracy ${percent(classifier.heldOutAccuracy)}, baseline p95 ${percent(p95)} (mean ${percent(mean)})`,
          },
          {
            budget: `no median shift with p < ${minSignificantP} and |Δ| > ${maxMedianDifferenceMs} ms`,
            subject,
            passed: !shiftTooLarge,
            detail: `Δ median ${signedMs(medianDifferenceMs.estimate)} ms, Mann–Whitney p ${pValue(mannWhitney.p)}`,
          },
        ]
      : [],
  };
}

export function pushTimingTable(
  stores: { store: string; comparisons: ComparisonAnalysis[] }[],
): ScenarioResult["table"] {
  return {
    columns: [
      "store",
      "comparison",
      "n exist/unknown",
      "median exist",
      "median unknown",
      "Δ median [95% CI]",
      "p90 exist",
      "p90 unknown",
      "MW p",
      "P(exist slower)",
      "accuracy",
      "baseline p95",
    ],
    rows: stores.flatMap(({ store, comparisons }) =>
      comparisons.map((analysis) => [
        store,
        analysis.budgeted ? analysis.comparison : `(${analysis.comparison})`,
        `${analysis.samples.existing}/${analysis.samples.unknown}`,
        analysis.existing.median.toFixed(3),
        analysis.unknown.median.toFixed(3),
        `${signedMs(analysis.medianDifferenceMs.estimate)} [${signedMs(analysis.medianDifferenceMs.low)}, ${signedMs(analysis.medianDifferenceMs.high)}]`,
        analysis.existing.p90.toFixed(3),
        analysis.unknown.p90.toFixed(3),
        pValue(analysis.mannWhitney.p),
        analysis.mannWhitney.probabilityAGreater.toFixed(3),
        percent(analysis.classifier.heldOutAccuracy),
        percent(analysis.baseline.p95),
      ]),
    ),
  };
}

const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;
const signedMs = (value: number): string => `${value >= 0 ? "+" : ""}${value.toFixed(3)}`;
/** Below about 1e-300 the normal tail underflows to 0; say so rather than print "0". */
const pValue = (p: number): string => (p < 1e-300 ? "<1e-300" : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
