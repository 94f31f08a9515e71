import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../src/support/server-process.js";
import type { ProcessUsage } from "./process-usage.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROBE = path.join(HERE, "process-probe.mjs");
export const SERVER_MAIN = path.resolve(HERE, "../../server/dist/main.js");
/** Where each benchmarked process's output goes, overwritten per start (tests/artifacts is ignored by git). */
const LOG_DIR = path.resolve(HERE, "../artifacts/bench-logs");

const STOP_TIMEOUT_MS = 15_000;

/** A benchmarked Node process: the server from server/dist/main.js, or the reference stack. */
export interface BenchProcess {
  /** http://localhost:<port>: the public origin, also where to reach it. */
  origin: string;
  port: number;
  pid: number;
  /** Its own CPU time and memory now (process-probe.mjs answers over IPC). */
  usage(): Promise<ProcessUsage>;
  /** The same after full garbage collections: what it keeps, not what it has yet to free. */
  settledUsage(): Promise<ProcessUsage>;
  /** Where its stdout and stderr went. */
  logFile: string;
  /** SIGTERM, then waits for it to exit (SIGKILL if it will not). */
  stop(): Promise<void>;
}

/**
 * Starts `script` as its own process, `node --expose-gc --import process-probe.mjs <script>`, on a
 * free loopback port, and resolves once GET /healthz answers 200. Its output goes to a file, so
 * it logs at its own level (production's is info) without the benchmark paying to read it.
 */
export async function startBenchProcess(options: {
  /** A name for its log file, e.g. "sign-in-throughput-memory". */
  name: string;
  script: string;
  env: Record<string, string>;
}): Promise<BenchProcess> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${options.name}.log`);
  const log = openSync(logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ["--expose-gc", "--import", PROBE, options.script], {
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        HOST: "127.0.0.1",
        PUBLIC_ORIGIN: origin,
        LOG_LEVEL: "info",
        ...options.env,
      },
      stdio: ["ignore", log, log, "ipc"],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(log);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = (): string => readFileSync(logFile, "utf8").slice(-4000);

  let nextId = 0;
  const waiting = new Map<number, { resolve: (usage: ProcessUsage) => void; reject: (error: Error) => void }>();
  let listening: () => void = () => undefined;
  const listeningOnPort = new Promise<void>((resolve) => (listening = resolve));
  child.on("message", (message: (ProcessUsage & { id: number }) | { listening: number }) => {
    if ("listening" in message) {
      // The metrics listener may come up too; the app's own port is the one that counts.
      if (message.listening === port) listening();
      return;
    }
    waiting.get(message.id)?.resolve(message);
    waiting.delete(message.id);
  });
  // A process that dies answers nothing more: every question still open fails at once.
  void exited.then(() => {
    for (const { reject } of waiting.values()) reject(new Error(`${options.name} exited:\n${output()}`));
    waiting.clear();
  });
  const ask = (measure: "usage" | "settled"): Promise<ProcessUsage> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`${options.name} is not running:\n${output()}`));
        return;
      }
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ id, measure });
    });

  // Listening (the probe says so over IPC), or gone: whichever comes first.
  const started = await Promise.race([listeningOnPort.then(() => true), exited.then(() => false)]);
  if (!started) throw new Error(`${options.name} exited during start-up:\n${output()}`);

  return {
    origin,
    port,
    pid: child.pid!,
    logFile,
    usage: () => ask("usage"),
    settledUsage: () => ask("settled"),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}
