import { randomBytes } from "node:crypto";
import { API_PATHS } from "@countersign/shared";
import { enrolPhone } from "../src/support/flows.js";
import { newDesktopKey } from "../src/support/desktop-key.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../src/support/http-client.js";
import { SoftAuthenticator } from "../src/support/soft-authenticator.js";
import { benchStores, startBenchServer, type BenchServer, type StoreKind } from "./bench-server.js";
import {
  analyseComparison,
  COMPARISONS,
  PUSH_GROUPS,
  PUSH_TIMING_BUDGETS,
  pushTimingTable,
  type ComparisonAnalysis,
  type PushGroup,
} from "./push-timing.analysis.js";
import type { Scenario, ScenarioOptions, ScenarioResult } from "./scenario.js";
import { seededRandom, shuffled, summarise, type Summary } from "./stats.js";
import { TimedClient } from "./timed-client.js";

/** Blocks per store; each block sends one request of every group, in random order. */
const SIZES = {
  // Enough for the accuracy budget's 10-point margin (a standard error near 2 points); the full run is the figure.
  quick: { warmupBlocks: 100, blocks: 500 },
  full: { warmupBlocks: 500, blocks: 6000 },
} as const;

/** Enrolments in flight at once while preparing accounts (not measured). */
const ENROL_CONCURRENCY = 4;
/** Mixed into the seed for the statistics, so the classifier's halves are unrelated to request order. */
const ANALYSIS_SEED_MIX = 0x9e3779b9;

/** Names of one length, so a name's length cannot be what differs. */
const randomName = (): string => `bench-${randomBytes(6).toString("hex")}`;

interface StoreRun {
  store: StoreKind;
  samples: { warmupBlocks: number; perGroup: number };
  durationSeconds: { enrolment: number; measurement: number };
  /** Median, p90 and so on of each group's response times (ms) and response sizes (bytes). */
  groups: Record<PushGroup, { ms: Summary; bytes: Summary }>;
  comparisons: ComparisonAnalysis[];
}

export const pushTimingScenario: Scenario = {
  name: "push-timing",
  description: "POST /api/push-logins: does response time tell existing usernames from unknown ones? (memory, Redis)",
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const sizes = options.quick ? SIZES.quick : SIZES.full;
    const runs: StoreRun[] = [];
    const { stores, notes } = benchStores({ requested: options.stores, quick: options.quick });
    for (const store of stores) runs.push(await runStore({ store, ...sizes, ...options }));

    const bytes = runs.map(
      (run) => `${run.store} ${PUSH_GROUPS.map((group) => `${group} ${run.groups[group].bytes.median}`).join(", ")}`,
    );
    return {
      name: pushTimingScenario.name,
      table: pushTimingTable(runs),
      budgets: runs.flatMap((run) => run.comparisons.flatMap((comparison) => comparison.budgets)),
      notes: [
        ...notes,
        `Samples: ${runs.map((run) => `${run.store} ${run.samples.perGroup} per group (after ${run.samples.warmupBlocks} warm-up blocks), measured in ${run.durationSeconds.measurement.toFixed(1)} s`).join("; ")}.`,
        "Times in ms, client side, one kept-alive connection, one request at a time, groups interleaved in random order.",
        "Δ median = existing − unknown, 95% bootstrap interval; MW p = Mann–Whitney U, two-sided;",
        "accuracy = best one-sample threshold classifier, fitted on half the samples, scored on the other half;",
        "baseline p95 = the same with existing/unknown labels shuffled 100 times, 95th percentile (what chance reaches).",
        ...COMPARISONS.map(
          (comparison) =>
            `${comparison.budgeted ? "" : "("}${comparison.name}${comparison.budgeted ? "" : ")"}: ${comparison.why}.`,
        ),
        `Median response bytes: ${bytes.join("; ")}.`,
      ],
      data: { budgets: PUSH_TIMING_BUDGETS, sizes, comparisons: COMPARISONS, stores: runs },
    };
  },
};

async function runStore(options: {
  store: StoreKind;
  warmupBlocks: number;
  blocks: number;
  seed: number;
  log: (line: string) => void;
}): Promise<StoreRun> {
  const { store, log } = options;
  // Its own process with BENCH_RELAXED_LIMITS, so repeated pushes to one name are never held back.
  const server = await startBenchServer({ name: "push-timing", store });
  const desktop = new TimedClient(server.origin, { origin: server.origin, "user-agent": DESKTOP_UA });
  try {
    const total = options.warmupBlocks + options.blocks;
    log(`push-timing ${store}: enrolling ${total + 1} accounts with the software authenticator…`);
    const enrolStarted = process.hrtime.bigint();
    const [repeatedName, ...firstTimeNames] = await enrolAccounts(server, total + 1);
    const enrolmentSeconds = secondsSince(enrolStarted);
    const unknownRepeatedName = randomName();
    const nameFor = (group: PushGroup, block: number): string => {
      switch (group) {
        case "existingAgain":
          return repeatedName!;
        case "unknownAgain":
          return unknownRepeatedName;
        case "existingFirst":
          return firstTimeNames[block]!;
        case "unknownFirst":
          return randomName();
      }
    };

    const samples = Object.fromEntries(PUSH_GROUPS.map((group) => [group, [] as number[]])) as Record<
      PushGroup,
      number[]
    >;
    const bytes = Object.fromEntries(PUSH_GROUPS.map((group) => [group, [] as number[]])) as Record<
      PushGroup,
      number[]
    >;
    const order = seededRandom(options.seed);
    log(`push-timing ${store}: ${options.warmupBlocks} warm-up blocks, then ${options.blocks} measured…`);
    // One page key for the whole run: the server only stores it, so its cost is the same for all.
    const { publicKey: desktopKey } = await newDesktopKey();
    const started = process.hrtime.bigint();
    for (let block = 0; block < total; block += 1) {
      // Every block holds one request of each group, in random order: drift hits all alike.
      for (const group of shuffled(PUSH_GROUPS, order)) {
        const response = await desktop.post(API_PATHS.pushLogins, { username: nameFor(group, block), desktopKey });
        // Anything but a created request (a 429, a 500) would make the timing meaningless.
        if (response.status !== 201) {
          throw new Error(`push-timing ${store}: expected 201 for ${group}, got ${response.status}: ${response.body}`);
        }
        if (block < options.warmupBlocks) continue;
        samples[group].push(response.elapsedMs);
        bytes[group].push(response.bytes);
      }
    }
    const measurementSeconds = secondsSince(started);
    log(`push-timing ${store}: ${options.blocks} per group in ${measurementSeconds.toFixed(1)} s; analysing…`);

    const random = seededRandom(options.seed ^ ANALYSIS_SEED_MIX);
    return {
      store,
      samples: { warmupBlocks: options.warmupBlocks, perGroup: options.blocks },
      durationSeconds: { enrolment: enrolmentSeconds, measurement: measurementSeconds },
      groups: Object.fromEntries(
        PUSH_GROUPS.map((group) => [group, { ms: summarise(samples[group]), bytes: summarise(bytes[group]) }]),
      ) as StoreRun["groups"],
      comparisons: COMPARISONS.map((comparison) => analyseComparison({ store, comparison, samples, random })),
    };
  } finally {
    desktop.close();
    await server.stop();
  }
}

/** `count` accounts, each with a passkey made by the software authenticator; resolves their usernames. */
async function enrolAccounts(server: BenchServer, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, randomName);
  let next = 0;
  const enrolNext = async (): Promise<void> => {
    while (next < names.length) {
      const username = names[next++]!;
      const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
      await enrolPhone(phone, new SoftAuthenticator({ origin: server.origin }), { username, displayName: "Bench" });
    }
  };
  await Promise.all(Array.from({ length: ENROL_CONCURRENCY }, enrolNext));
  return names;
}

const secondsSince = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;
