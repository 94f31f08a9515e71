import { API_PATHS, SOCKET_EVENTS, type CreateLoginResponse } from "@countersign/shared";
import { DESKTOP_UA } from "../src/support/http-client.js";
import type { CountersignSocket } from "../src/support/socket-client.js";
import { benchStores, startBenchServer, type StoreKind } from "./bench-server.js";
import { expectJson, LoadHttp } from "./load-http.js";
import { memoryPerItem, type MemoryPerItem } from "./process-usage.js";
import type { BudgetCheck, Scenario, ScenarioOptions, ScenarioResult } from "./scenario.js";
import { connectDesktopSocket, PageKey } from "./sign-in.load.js";

const SIZES = {
  // Fewer in a quick run: the figure is per watcher; the full run counts the budget's 5,000.
  quick: { watchers: 2_000, warmup: 300, concurrency: 64 },
  full: { watchers: 5_000, warmup: 500, concurrency: 64 },
} as const;

export const IDLE_WATCHER_BUDGET = { heapBytesPerWatcher: 12 * 1024 };

/**
 * Long enough that no request expires while the watchers are counted (the default, 2 minutes,
 * would let the warm-up's requests expire mid-count and hide memory).
 */
const LOGIN_TTL_SECONDS = "900";

interface StoreMemory extends MemoryPerItem {
  store: StoreKind;
  /** How long creating and watching them took, s. */
  setupSeconds: number;
}

export const idleWatchersScenario: Scenario = {
  name: "idle-watchers",
  description: "server heap and RSS per idle watching desktop, at 5,000 watchers (memory, Redis)",
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const sizes = options.quick ? SIZES.quick : SIZES.full;
    // A quick run measures the memory store only: it keeps the requests in the heap too, so it is the larger figure.
    const { stores, notes } = benchStores({ requested: options.stores, quick: options.quick, quickStore: "memory" });
    const runs: StoreMemory[] = [];
    for (const store of stores) runs.push(await measureStore({ store, sizes, log: options.log }));

    const budgets: BudgetCheck[] = runs.map((run) => ({
      subject: `${run.store}, server heap per idle watching desktop at ${run.items} watchers`,
      budget: `≤ ${IDLE_WATCHER_BUDGET.heapBytesPerWatcher / 1024} KB`,
      passed: run.heapBytesPerItem <= IDLE_WATCHER_BUDGET.heapBytesPerWatcher,
      detail: `${(run.heapBytesPerItem / 1024).toFixed(1)} KB heap, ${(run.rssBytesPerItem / 1024).toFixed(1)} KB RSS`,
    }));
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
    return {
      name: idleWatchersScenario.name,
      table: {
        columns: [
          "store",
          "watchers",
          "heap KB each",
          "RSS KB each",
          "heap MiB before → after",
          "RSS MiB before → after",
        ],
        rows: runs.map((run) => [
          run.store,
          String(run.items),
          (run.heapBytesPerItem / 1024).toFixed(1),
          (run.rssBytesPerItem / 1024).toFixed(1),
          `${mib(run.before.heapUsed)} → ${mib(run.after.heapUsed)}`,
          `${mib(run.before.rss)} → ${mib(run.after.rss)}`,
        ]),
      },
      budgets,
      notes: [
        ...notes,
        `A watcher: a desktop socket, a QR request it created and watches with a proof, then idle (its QR frames keep coming).`,
        `Heap: the server process's heapUsed after full garbage collections (--expose-gc, asked over IPC), with the`,
        `watchers minus before them, after ${sizes.warmup} warm-up watchers that stay open throughout. LOGIN_TTL_SECONDS=${LOGIN_TTL_SECONDS}.`,
      ],
      data: { budget: IDLE_WATCHER_BUDGET, sizes, stores: runs },
    };
  },
};

async function measureStore(options: {
  store: StoreKind;
  sizes: (typeof SIZES)[keyof typeof SIZES];
  log: (line: string) => void;
}): Promise<StoreMemory> {
  const { store, sizes, log } = options;
  const server = await startBenchServer({ name: "idle-watchers", store, env: { LOGIN_TTL_SECONDS } });
  const http = new LoadHttp({ origin: server.origin, maxSockets: sizes.concurrency });
  const sockets: CountersignSocket[] = [];
  try {
    const open = async (count: number): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < count) {
          next += 1;
          sockets.push(await watchNewRequest({ origin: server.origin, http }));
        }
      };
      await Promise.all(Array.from({ length: sizes.concurrency }, worker));
    };
    log(`idle-watchers ${store}: ${sizes.warmup} warm-up watchers…`);
    await open(sizes.warmup);
    const before = await server.settledUsage();
    log(`idle-watchers ${store}: ${sizes.watchers} more…`);
    const started = performance.now();
    await open(sizes.watchers);
    const setupSeconds = (performance.now() - started) / 1000;
    const after = await server.settledUsage();
    const figures = memoryPerItem({ before, after, items: sizes.watchers });
    log(`idle-watchers ${store}: ${(figures.heapBytesPerItem / 1024).toFixed(1)} KB heap each`);
    return { store, setupSeconds, ...figures };
  } finally {
    for (const socket of sockets) socket.close();
    http.close();
    await server.stop();
  }
}

/** A desktop page that has created a QR request and watches it: socket, create, watch. */
async function watchNewRequest(options: { origin: string; http: LoadHttp }): Promise<CountersignSocket> {
  const { origin, http } = options;
  const socket = await connectDesktopSocket(origin);
  try {
    const key = new PageKey();
    const created = expectJson<CreateLoginResponse>(
      "create",
      await http.send({
        method: "POST",
        path: API_PATHS.logins,
        headers: { origin, "user-agent": DESKTOP_UA },
        json: { desktopKey: key.publicKey },
      }),
      201,
    );
    const { id } = created.login;
    const watched = await socket.timeout(15_000).emitWithAck(SOCKET_EVENTS.loginWatch, {
      id,
      desktopSecret: created.desktopSecret,
      proof: key.proof({ id, use: "watch" }),
    });
    if (!watched.ok) throw new Error(`watch: expected ok, got ${JSON.stringify(watched.error)}`);
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}
