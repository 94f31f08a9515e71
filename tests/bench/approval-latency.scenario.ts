import { setTimeout as sleep } from "node:timers/promises";
import { benchStores, startBenchServer, type BenchServer, type StoreKind } from "./bench-server.js";
import { LoadHttp } from "./load-http.js";
import { arrivalSchedule } from "./open-loop.js";
import { cpuPerOperation, type ProcessUsage } from "./process-usage.js";
import type { BudgetCheck, Scenario, ScenarioOptions, ScenarioResult } from "./scenario.js";
import {
  approveWaiting,
  enrolPhones,
  prepareWaitingRequest,
  type BenchPhone,
  type WaitingRequest,
} from "./sign-in.load.js";
import { summarise, type Summary } from "./stats.js";

const SIZES = {
  quick: { open: 200, rates: [100, 300], warmupMs: 1_000, measureMs: 3_000 },
  full: { open: 200, rates: [100, 300], warmupMs: 3_000, measureMs: 20_000 },
} as const;

/** Phones beyond the open requests: one is busy from opening a request until its approval is answered. */
const SPARE_PHONES = 50;

export const APPROVAL_LATENCY_BUDGET = { ratePerSecond: 300, open: 200, p99Ms: 10, store: "memory" as StoreKind };

interface RateRun {
  store: StoreKind;
  ratePerSecond: number;
  open: number;
  /** Approve sent → the desktop's socket hears "approved", ms. */
  latency: Summary;
  /** The scheduled time → approve sent, ms: the load generator's own lateness, not the server's. */
  lag: Summary;
  /** Approvals due when no request was waiting (the server fell behind preparing them). */
  missed: number;
  /** Complete sign-ins per second achieved, and the server's CPU, over the measured window. */
  signInsPerSecond: number;
  serverBusy: number;
  serverMsPerSignIn: number;
}

export const approvalLatencyScenario: Scenario = {
  name: "approval-latency",
  description:
    "approval → desktop event p50/p90/p99, 200 open requests, 100 and 300 approvals/s open loop, full flow running",
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const sizes = options.quick ? SIZES.quick : SIZES.full;
    // A quick run measures the budgeted store only; the full run adds Redis for comparison.
    const { stores, notes } = benchStores({
      requested: options.stores,
      quick: options.quick,
      quickStore: APPROVAL_LATENCY_BUDGET.store,
    });
    const runs: RateRun[] = [];
    for (const store of stores) runs.push(...(await measureStore({ store, sizes, log: options.log })));

    const budgets: BudgetCheck[] = runs
      .filter(
        (run) =>
          run.store === APPROVAL_LATENCY_BUDGET.store && run.ratePerSecond === APPROVAL_LATENCY_BUDGET.ratePerSecond,
      )
      .map((run) => ({
        subject: `${run.store}, approval → desktop p99 at ${run.ratePerSecond}/s with ${run.open} open`,
        budget: `≤ ${APPROVAL_LATENCY_BUDGET.p99Ms} ms, none missed`,
        passed: run.latency.p99 <= APPROVAL_LATENCY_BUDGET.p99Ms && run.missed === 0,
        detail: `p99 ${run.latency.p99.toFixed(1)} ms over ${run.latency.count}, ${run.missed} missed`,
      }));
    const laggy = runs.filter((run) => run.lag.p99 > 2);
    return {
      name: approvalLatencyScenario.name,
      table: {
        columns: [
          "store",
          "approvals/s",
          "open",
          "measured",
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "max ms",
          "generator lag p99",
          "missed",
          "server busy",
          "server CPU ms/sign-in",
        ],
        rows: runs.map((run) => [
          run.store,
          String(run.ratePerSecond),
          String(run.open),
          String(run.latency.count),
          run.latency.median.toFixed(2),
          run.latency.p90.toFixed(2),
          run.latency.p99.toFixed(2),
          run.latency.max.toFixed(1),
          run.lag.p99.toFixed(2),
          String(run.missed),
          `${(run.serverBusy * 100).toFixed(0)}%`,
          run.serverMsPerSignIn.toFixed(2),
        ]),
      },
      budgets,
      notes: [
        ...notes,
        `Open loop: approvals at fixed times, ${sizes.warmupMs / 1000} s warm-up then ${sizes.measureMs / 1000} s measured per rate.`,
        `${sizes.open} requests wait at all times, each created and watched by a desktop socket and opened by its own phone;`,
        "each approval is followed by the rest of the flow (redeem, session check) and a new waiting request, so the full",
        'flow runs at the approval rate. Latency: approve request sent → the desktop\'s socket hears "approved".',
        `Budget on the ${APPROVAL_LATENCY_BUDGET.store} store; Redis is shown for comparison.`,
        ...(laggy.length === 0
          ? []
          : [
              `The load generator ran late (lag p99 > 2 ms) at ${laggy.map((run) => `${run.store} ${run.ratePerSecond}/s`).join(", ")}:`,
              "it shares the cores with the server, so part of that latency may be the client's.",
            ]),
      ],
      data: { budget: APPROVAL_LATENCY_BUDGET, sizes, runs },
    };
  },
};

async function measureStore(options: {
  store: StoreKind;
  sizes: (typeof SIZES)[keyof typeof SIZES];
  log: (line: string) => void;
}): Promise<RateRun[]> {
  const { store, sizes, log } = options;
  const server = await startBenchServer({ name: "approval-latency", store });
  try {
    const count = sizes.open + SPARE_PHONES;
    log(`approval-latency ${store}: enrolling ${count} phones…`);
    const phones = await enrolPhones({ origin: server.origin, count, concurrency: 8 });
    const runs: RateRun[] = [];
    for (const ratePerSecond of sizes.rates) {
      log(`approval-latency ${store}: ${sizes.open} open, ${ratePerSecond} approvals/s…`);
      const run = await measureRate({ server, phones, ratePerSecond, ...sizes });
      log(
        `approval-latency ${store} ${ratePerSecond}/s: p50 ${run.latency.median.toFixed(2)} ms, p99 ${run.latency.p99.toFixed(2)} ms, ${run.missed} missed`,
      );
      runs.push(run);
    }
    return runs;
  } finally {
    await server.stop();
  }
}

async function measureRate(options: {
  server: BenchServer;
  phones: BenchPhone[];
  ratePerSecond: number;
  open: number;
  warmupMs: number;
  measureMs: number;
}): Promise<RateRun> {
  const { server, ratePerSecond, open } = options;
  const origin = server.origin;
  const http = new LoadHttp({ origin, maxSockets: 256 });
  const freePhones = [...options.phones];
  const waiting: WaitingRequest[] = [];
  let preparing = 0;
  let failure: unknown = null;
  let stopping = false;
  let onChange: () => void = () => undefined;

  const refill = (): void => {
    while (!stopping && waiting.length + preparing < open && freePhones.length > 0) {
      const phone = freePhones.pop()!;
      preparing += 1;
      prepareWaitingRequest({ origin, http, phone }).then(
        (request) => {
          preparing -= 1;
          if (stopping) request.socket.close();
          else waiting.push(request);
          onChange();
        },
        (error: unknown) => {
          preparing -= 1;
          failure ??= error;
          onChange();
        },
      );
    }
  };
  const until = (condition: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (failure !== null) reject(failure);
        else if (condition()) resolve();
      };
      onChange = check;
      check();
    });

  try {
    refill();
    await until(() => waiting.length >= open);

    const total = Math.round((ratePerSecond * (options.warmupMs + options.measureMs)) / 1000);
    const firstMeasured = Math.round((ratePerSecond * options.warmupMs) / 1000);
    const schedule = arrivalSchedule({ startAt: performance.now() + 5, ratePerSecond, count: total });
    const latencies: number[] = [];
    const lags: number[] = [];
    let missed = 0;
    let completedInWindow = 0;
    const inFlight = new Set<Promise<void>>();
    // Asked for, not awaited, so the reading does not delay the arrivals it starts.
    let before: Promise<ProcessUsage> | null = null;

    const approveOne = async (request: WaitingRequest, due: { index: number; dueAt: number }): Promise<void> => {
      const measured = due.index >= firstMeasured;
      const sentAt = performance.now();
      await approveWaiting({ origin, http, request });
      freePhones.push(request.phone);
      refill();
      const heardAt = await request.approvedAt;
      if (measured) {
        latencies.push(heardAt - sentAt);
        lags.push(sentAt - due.dueAt);
      }
      await request.finish();
      if (measured) completedInWindow += 1;
    };

    for (let next = schedule.nextDueAt(); next !== null; next = schedule.nextDueAt()) {
      if (failure !== null) throw failure;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      for (const due of schedule.takeDue(performance.now())) {
        if (due.index === firstMeasured) before = server.usage();
        const request = waiting.shift();
        if (request === undefined) {
          if (due.index >= firstMeasured) missed += 1;
          continue;
        }
        const approval = approveOne(request, due).catch((error: unknown) => {
          failure ??= error;
        });
        inFlight.add(approval);
        void approval.finally(() => inFlight.delete(approval));
      }
    }
    await Promise.all(inFlight);
    const after = await server.usage();
    if (failure !== null) throw failure;
    const cpu = cpuPerOperation({ before: await before!, after, operations: Math.max(1, completedInWindow) });
    return {
      store: server.store,
      ratePerSecond,
      open,
      latency: summarise(latencies),
      lag: summarise(lags),
      missed,
      signInsPerSecond: cpu.perSecond,
      serverBusy: cpu.busy,
      serverMsPerSignIn: cpu.msPerOperation,
    };
  } finally {
    stopping = true;
    for (const request of waiting.splice(0)) request.socket.close();
    await until(() => preparing === 0).catch(() => undefined);
    http.close();
  }
}
