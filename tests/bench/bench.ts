/**
 * `npm run bench` (DESIGN §9): runs named scenarios against the real server, prints a table per
 * scenario, writes everything as JSON, and exits 1 if a budget is exceeded. Budgets live in the
 * scenarios, never in timed unit tests.
 *
 *   npm run bench                         every scenario, full length
 *   npm run bench -- --quick              shorter (about a minute)
 *   npm run --silent bench -- --json > report.json    the JSON alone on stdout
 *   npm run bench -- --scenario push-timing --seed 42
 *   npm run bench -- --scenario sign-in-throughput --store memory --quick
 *
 * Only the unit tests of bench/ (*.test.ts) run in `npm test`; the benchmark itself never does.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { approvalLatencyScenario } from "./approval-latency.scenario.js";
import { idleWatchersScenario } from "./idle-watchers.scenario.js";
import { pushTimingScenario } from "./push-timing.scenario.js";
import { signInThroughputScenario } from "./sign-in-throughput.scenario.js";
import type { StoreKind } from "./bench-server.js";
import type { Scenario, ScenarioResult } from "./scenario.js";

/** Every scenario, in the order a full run takes them. */
const SCENARIOS: Scenario[] = [
  signInThroughputScenario,
  approvalLatencyScenario,
  idleWatchersScenario,
  pushTimingScenario,
];

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_OUT = path.join(REPO_ROOT, "tests/artifacts/bench.json");

const USAGE = `Usage: npm run bench -- [options]

  --quick              a shorter run (fewer samples), for a quick look
  --scenario <name>    run only this scenario (repeatable); default: all
  --store <store>      memory or redis (repeatable); default: both (a quick run of
                       approval-latency and idle-watchers: memory only)
  --seed <n>           seed for request order and statistics; default: random, printed
  --json               print the JSON report on stdout, the rest on stderr (with npm run --silent)
  --out <file>         where to write the JSON report; default: tests/artifacts/bench.json
  --help               this text

Scenarios:
${SCENARIOS.map((scenario) => `  ${scenario.name.padEnd(20)} ${scenario.description}`).join("\n")}
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      scenario: { type: "string", multiple: true },
      store: { type: "string", multiple: true },
      seed: { type: "string" },
      json: { type: "boolean", default: false },
      out: { type: "string", default: DEFAULT_OUT },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // npm runs workspace scripts in the workspace's folder; a relative --out means where npm was started.
  const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), values.out);
  const human = values.json ? process.stderr : process.stdout;
  const say = (line: string): void => void human.write(`${line}\n`);

  const unknown = (values.scenario ?? []).filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(", ")}; expected one of ${SCENARIOS.map((s) => s.name).join(", ")}`,
    );
  }
  const selected =
    values.scenario === undefined
      ? SCENARIOS
      : SCENARIOS.filter((scenario) => values.scenario!.includes(scenario.name));
  const badStore = (values.store ?? []).find((store) => store !== "memory" && store !== "redis");
  if (badStore !== undefined) throw new Error(`--store expects memory or redis, got "${badStore}"`);
  const stores = values.store as StoreKind[] | undefined;
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed expects an integer, got "${values.seed}"`);

  const machine = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    // Other work on the machine lengthens latencies, and CPU times less so: the run says how busy it was.
    loadAverageAtStart: loadavg()[0]!,
  };
  say(
    `bench: ${selected.map((scenario) => scenario.name).join(", ")}, ${values.quick ? "quick" : "full"} run, ` +
      `seed ${seed}, ${machine.cores} cores, node ${machine.node}`,
  );

  const startedAt = new Date().toISOString();
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    const result = await scenario.run({ quick: values.quick, seed, stores, log: (line) => say(`  ${line}`) });
    results.push(result);
    say("");
    say(`${result.name}`);
    say(renderTable(result.table));
    for (const note of result.notes) say(note);
    for (const check of result.budgets) {
      say(`${check.passed ? "PASS" : "FAIL"}  ${check.subject}: ${check.budget} (${check.detail})`);
    }
  }

  // Every budget of every scenario in one table: the figure to read first.
  say("");
  say("Budgets");
  say(
    renderTable({
      columns: ["scenario", "figure", "budget", "measured", "result"],
      rows: results.flatMap((result) =>
        result.budgets.map((check) => [
          result.name,
          check.subject,
          check.budget,
          check.detail,
          check.passed ? "PASS" : "FAIL",
        ]),
      ),
    }),
  );

  const failed = results.flatMap((result) => result.budgets.filter((check) => !check.passed));
  const report = {
    startedAt,
    quick: values.quick,
    seed,
    machine: { ...machine, loadAverageAtEnd: loadavg()[0]! },
    passed: failed.length === 0,
    scenarios: results.map(({ name, budgets, data }) => ({ name, budgets, data })),
  };
  const json = JSON.stringify(report, null, 2);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${json}\n`);
  if (values.json) process.stdout.write(`${json}\n`);
  say("");
  say(
    `Load average (1 min): ${machine.loadAverageAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end, on ${machine.cores} cores.`,
  );
  say(`JSON report: ${out.startsWith(`${REPO_ROOT}${path.sep}`) ? path.relative(REPO_ROOT, out) : out}`);
  say(
    failed.length === 0
      ? "bench: every budget passed"
      : `bench: ${failed.length} budget(s) exceeded: ${failed.map((check) => `${check.subject}: ${check.budget}`).join("; ")}`,
  );
  return failed.length === 0 ? 0 : 1;
}

function renderTable(table: ScenarioResult["table"]): string {
  const widths = table.columns.map((column, index) =>
    Math.max(column.length, ...table.rows.map((row) => (row[index] ?? "").length)),
  );
  const line = (cells: string[]): string => cells.map((cell, index) => cell.padEnd(widths[index]!)).join("  ");
  return [line(table.columns), line(widths.map((width) => "-".repeat(width))), ...table.rows.map(line)].join("\n");
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    // 2, not 1: the benchmark could not measure, which is not the same as a budget exceeded.
    process.exit(2);
  },
);
