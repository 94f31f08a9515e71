import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "selfsigned";
import { isCi } from "./ci.js";
import { freePort } from "./server-process.js";

/** Debian's nginx, as an operator installs it; never one a tool downloads for itself. */
export const NGINX_PATH = process.env.NGINX_PATH ?? "/usr/sbin/nginx";

/** How to get nginx, for every message that says it is missing. */
export const NGINX_INSTALL_HINT = 'install it with "apt-get update && apt-get install -y nginx" (or set NGINX_PATH)';

/** The configuration the README tells operators to copy. */
export const SHIPPED_NGINX_CONF = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../deploy/nginx.conf",
);

const STOP_TIMEOUT_MS = 5_000;

/**
 * Whether the nginx tests can run. Under CI (see isCi) a missing nginx is a failure; elsewhere
 * the suite is skipped, loudly, with the command that installs it.
 */
export function nginxAvailable(): boolean {
  if (existsSync(NGINX_PATH)) return true;
  const message = `nginx not found at ${NGINX_PATH}: ${NGINX_INSTALL_HINT}.`;
  if (isCi()) throw new Error(`${message} CI must run the deployment tests.`);
  process.stderr.write(`\n*** SKIPPING the deployment tests (two processes behind a real nginx). ${message}\n\n`);
  return false;
}

export interface Nginx {
  /** Plain HTTP, where the tests talk to it. */
  url: string;
  /** The shipped TLS (and HTTP/2) listener, with `certificate` as its certificate. */
  tlsUrl: string;
  certificate: string;
  /** nginx's access log so far (deploy/nginx.conf's "countersign" format), one line each. */
  accessLog(): string[];
  /** nginx's error log so far. */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * A real nginx running deploy/nginx.conf as shipped, but for what a test machine must change:
 * where it listens (free loopback ports, plus a plain-HTTP listener beside the TLS one), which
 * ports the processes have, where its files go (a private prefix directory) and the certificate
 * (self-signed). Every change must find its line exactly once, so that this follows the file
 * instead of quietly testing something else.
 */
export async function startNginx(options: { upstreamPorts: [number, number]; port?: number }): Promise<Nginx> {
  const [port, tlsPort, redirectPort] = [options.port ?? (await freePort()), await freePort(), await freePort()];
  const prefix = mkdtempSync(path.join(tmpdir(), "countersign-nginx-"));
  const { cert, key } = await selfSignedCertificate();
  writeFileSync(path.join(prefix, "cert.pem"), cert);
  writeFileSync(path.join(prefix, "key.pem"), key);
  const [a, b] = options.upstreamPorts;
  const conf = applyChanges(readFileSync(SHIPPED_NGINX_CONF, "utf8"), [
    // Workers keep the test's user: they write temporary files into the prefix directory.
    ["user www-data;\n", ""],
    ["pid /run/nginx.pid;", "pid nginx.pid;"],
    ["error_log /var/log/nginx/error.log warn;", "error_log error.log warn;"],
    ["access_log /var/log/nginx/access.log countersign;", "access_log access.log countersign;"],
    [
      "default_type application/octet-stream;",
      "default_type application/octet-stream;\n" +
        ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
          .map((kind) => `${kind}_temp_path ${kind}_temp;`)
          .join("\n"),
    ],
    ["server 127.0.0.1:3001 ", `server 127.0.0.1:${a} `],
    ["server 127.0.0.1:3002 ", `server 127.0.0.1:${b} `],
    ["listen 443 ssl http2;", `listen 127.0.0.1:${tlsPort} ssl http2;\n        listen 127.0.0.1:${port};`],
    ["listen [::]:443 ssl http2;", ""],
    ["listen 80;", `listen 127.0.0.1:${redirectPort};`],
    ["listen [::]:80;", ""],
    ["/etc/ssl/countersign/fullchain.pem", path.join(prefix, "cert.pem")],
    ["/etc/ssl/countersign/privkey.pem", path.join(prefix, "key.pem")],
  ]);
  const confPath = path.join(prefix, "nginx.conf");
  writeFileSync(confPath, conf);

  // A second error log, on stderr at notice level, says when the master has bound every listener
  // and starts its workers: the moment to wait for, instead of polling the port.
  const child = spawn(NGINX_PATH, ["-p", `${prefix}/`, "-c", confPath, "-g", "daemon off; error_log stderr notice;"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let ready: () => void = () => undefined;
  const workersStarted = new Promise<void>((resolve) => (ready = resolve));
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    if (/start worker process/.test(output)) ready();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const readLog = (name: string): string => {
    const file = path.join(prefix, name);
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  };

  const stop = async (): Promise<void> => {
    if (isRunning(child)) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    }
    rmSync(prefix, { recursive: true, force: true });
  };

  try {
    const started = await Promise.race([workersStarted.then(() => true), exited.then(() => false)]);
    if (!started) throw new Error(`nginx exited at start-up:\n${output}${readLog("error.log")}`);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    tlsUrl: `https://127.0.0.1:${tlsPort}`,
    certificate: cert,
    accessLog: () =>
      readLog("access.log")
        .split("\n")
        .filter((line) => line !== ""),
    errorLog: () => readLog("error.log"),
    stop,
  };
}

function applyChanges(conf: string, changes: [from: string, to: string][]): string {
  return changes.reduce((text, [from, to]) => {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`deploy/nginx.conf: expected "${from.trim()}" once, found it ${count} times`);
    return text.replace(from, () => to);
  }, conf);
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const { cert, private: key } = await generate([{ name: "commonName", value: "127.0.0.1" }]);
  return { cert, key };
}
