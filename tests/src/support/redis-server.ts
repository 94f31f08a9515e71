import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Socket } from "node:net";
import { freePort } from "./server-process.js";

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGTERM: with an append-only file, Redis flushes it first). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same arguments. */
  restart(): Promise<void>;
}

const INSTALL_HINT = 'install it with "apt-get update && apt-get install -y redis-server"';

/**
 * Whether Redis tests can run. Under CI a missing redis-server is a failure; elsewhere the
 * suite is skipped, loudly, with the command that installs it.
 */
export function redisServerAvailable(): boolean {
  if (spawnSync("redis-server", ["--version"]).status === 0) return true;
  const message = `redis-server is not on PATH: ${INSTALL_HINT}.`;
  if (process.env.CI === "true") throw new Error(message);
  process.stderr.write(`\n*** SKIPPING Redis tests. ${message}\n\n`);
  return false;
}

/**
 * A private redis-server on a free loopback port, never the shared 6379, so tests never share
 * data with anything else. Keeps nothing on disk unless `args` say otherwise.
 */
export async function startRedisServer(options: { args?: string[] } = {}): Promise<RedisServer> {
  const port = await freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    ...(options.args ?? []),
  ];
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    const process = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    process.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    process.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child = process;
    const started = Date.now();
    while (!(await answersPing(port))) {
      if (process.exitCode !== null) throw new Error(`redis-server exited at start-up:\n${output}`);
      if (Date.now() - started > 10_000) throw new Error(`redis-server did not answer within 10 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    await exited;
  };

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, restart: start };
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
