import type { StoreKind } from "./bench-server.js";

/** What the runner (bench.ts) knows about a scenario; each `*.scenario.ts` exports one. */
export interface Scenario {
  /** What `--scenario` selects it by, e.g. "push-timing". */
  name: string;
  /** One line for `--help`. */
  description: string;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}

export interface ScenarioOptions {
  /** A shorter run with fewer samples: a smoke test and a quick look, not the figure to quote. */
  quick: boolean;
  /** Seeds every random choice the scenario makes about order and statistics. */
  seed: number;
  /** Only these stores (--store); undefined: the scenario's own choice. */
  stores: StoreKind[] | undefined;
  /** Progress for the person watching; not part of the result. */
  log: (line: string) => void;
}

export interface ScenarioResult {
  name: string;
  /** What a person reads: one table. */
  table: { columns: string[]; rows: string[][] };
  /** Every budget checked; the run fails if one did not pass. */
  budgets: BudgetCheck[];
  /** Notes printed under the table, e.g. a part that was skipped and why. */
  notes: string[];
  /** Everything measured, for the JSON report. */
  data: unknown;
}

export interface BudgetCheck {
  /** The budget, e.g. "held-out single-sample accuracy ≤ 60%". */
  budget: string;
  /** What it was checked on, e.g. "redis". */
  subject: string;
  passed: boolean;
  /** The figures that decided it. */
  detail: string;
}
