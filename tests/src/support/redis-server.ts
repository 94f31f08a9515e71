import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { Socket } from "node:net";
import { isCi } from "./ci.js";
import { freePort } from "./server-process.js";

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGTERM: with an append-only file, Redis flushes it first). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same arguments. */
  restart(): Promise<void>;
  /**
   * Freezes it (SIGSTOP): connections stay open but nothing is answered, as with a Redis that
   * hangs. Resolves once the process is stopped. Pair with thaw() in a finally or afterEach.
   */
  freeze(): Promise<void>;
  /** Lets a frozen server run again (SIGCONT); does nothing if it is not frozen. */
  thaw(): void;
}

/** How to get redis-server, for every message that says it is missing. */
export const REDIS_INSTALL_HINT = 'install it with "apt-get update && apt-get install -y redis-server"';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const FREEZE_TIMEOUT_MS = 5_000;
/** Another process may take the free port between probing it and Redis binding it. */
const START_ATTEMPTS = 3;

/**
 * Whether Redis tests can run. Under CI (see isCi) a missing redis-server is a failure; elsewhere
 * the caller skips its Redis suites, and this says so loudly, with the command that installs it.
 */
export function redisServerAvailable(): boolean {
  if (spawnSync("redis-server", ["--version"]).status === 0) return true;
  const message = `redis-server is not on PATH: ${REDIS_INSTALL_HINT}.`;
  if (isCi()) throw new Error(`${message} CI must run the Redis tests.`);
  // Loud on purpose: a skipped suite must not pass for a green one.
  // eslint-disable-next-line no-console
  console.warn(
    `\n*** SKIPPING the Redis tests (Redis store contract, multi-process and frozen-Redis tests). ${message}\n`,
  );
  return false;
}

/**
 * A private redis-server on a free loopback port, never the shared 6379, so tests never share
 * data with anything else. Keeps nothing on disk unless `args` say otherwise (later arguments
 * win, so `args` may override the defaults, e.g. `["--appendonly", "yes"]`).
 */
export async function startRedisServer(options: { args?: string[] } = {}): Promise<RedisServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const server = createRedisServer({ port, args: options.args ?? [] });
    try {
      await server.restart();
      return server;
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

function createRedisServer(options: { port: number; args: string[] }): RedisServer {
  const { port } = options;
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    ...options.args,
  ];
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    if (child !== null) throw new Error(`redis-server on port ${port} is already running`);
    const started = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    let output = "";
    started.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const spawned = { error: null as Error | null };
    started.once("error", (error) => (spawned.error = error));
    try {
      const since = Date.now();
      while (!(await answersPing(port))) {
        if (spawned.error !== null) throw new Error(`redis-server could not start: ${spawned.error.message}`);
        if (started.exitCode !== null) throw new Error(`redis-server exited at start-up:\n${output}`);
        if (Date.now() - since > START_TIMEOUT_MS) {
          throw new Error(`redis-server did not answer PING on port ${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } catch (error) {
      await stop();
      throw error;
    }
  };

  const isRunning = (candidate: ChildProcess | null): candidate is ChildProcess & { pid: number } =>
    candidate !== null && candidate.pid !== undefined && candidate.exitCode === null && candidate.signalCode === null;

  const thaw = (): void => {
    if (isRunning(child)) child.kill("SIGCONT");
  };

  const freeze = async (): Promise<void> => {
    const running = child;
    if (!isRunning(running)) throw new Error(`redis-server on port ${port} is not running, so it cannot be frozen`);
    running.kill("SIGSTOP");
    // kill() only queues the signal. Where /proc exists, wait until the kernel reports the
    // process stopped ("T"), so no command sent after freeze() can still be answered.
    const stat = `/proc/${running.pid}/stat`;
    if (!existsSync(stat)) return;
    const since = Date.now();
    while (!/^\d+ \(.*\) T /.test(readFileSync(stat, "utf8"))) {
      if (Date.now() - since > FREEZE_TIMEOUT_MS) {
        throw new Error(`redis-server on port ${port} did not stop within ${FREEZE_TIMEOUT_MS} ms of SIGSTOP`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    // No pid: it never started (spawn failed), so there is nothing to stop and no exit to await.
    if (!isRunning(running)) return;
    // A frozen server would not act on SIGTERM until the SIGKILL below.
    running.kill("SIGCONT");
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    const killer = setTimeout(() => running.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  };

  return { url: `redis://127.0.0.1:${port}`, port, stop, restart: start, freeze, thaw };
}

/** A raw PING over TCP, so the check needs no client library. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
  });
}
