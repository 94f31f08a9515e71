export interface ClosedLoopResult<Reading> {
  /** Readings taken as the measured window opened and as it closed. */
  before: Reading;
  after: Reading;
  /** Operations that completed inside the window. */
  operations: number;
  /** The load generator's own CPU time in the window, ms: if it nears the window's length, the client limited the rate. */
  clientCpuMs: number;
}

/**
 * `concurrency` workers each run `operation` again and again, the next as soon as the last ends
 * (a closed loop: with enough workers the server is never idle). After `warmupMs`, `read()` marks
 * the window's start; after `measureMs` more, its end; then the workers finish what they started.
 * The first failure stops every worker and is thrown: a broken run measures nothing.
 */
export async function runClosedLoop<Reading>(options: {
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  operation: (worker: number) => Promise<void>;
  read: () => Promise<Reading>;
}): Promise<ClosedLoopResult<Reading>> {
  let phase: "warm-up" | "measuring" | "draining" = "warm-up";
  let operations = 0;
  let failure: unknown = null;
  const worker = async (index: number): Promise<void> => {
    while (phase !== "draining" && failure === null) {
      try {
        await options.operation(index);
      } catch (error) {
        failure ??= error;
        return;
      }
      if (phase === "measuring") operations += 1;
    }
  };
  const workers = Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  const stopped = workers.then(() => "stopped" as const);

  const pause = async (ms: number): Promise<boolean> => {
    const outcome = await Promise.race([
      stopped,
      new Promise<"elapsed">((resolve) => setTimeout(resolve, ms, "elapsed")),
    ]);
    return outcome === "elapsed";
  };
  if (!(await pause(options.warmupMs))) throw failure ?? new Error("closed loop: every worker stopped");
  const before = await options.read();
  const clientBefore = process.cpuUsage();
  operations = 0;
  phase = "measuring";
  const completed = await pause(options.measureMs);
  const counted = operations;
  phase = "draining";
  const client = process.cpuUsage(clientBefore);
  const after = await options.read();
  await workers;
  if (failure !== null || !completed) throw failure ?? new Error("closed loop: every worker stopped");
  return { before, after, operations: counted, clientCpuMs: (client.user + client.system) / 1000 };
}
