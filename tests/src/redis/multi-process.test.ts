import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_PATHS, type ErrorResponse, type OpenApprovalResponse } from "@countersign/shared";
import { approveOpened, createLogin, enrolPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** What a load balancer would present: one public origin in front of every process. */
const ORIGIN = "http://countersign.test";

let redis: RedisServer;
let dataDir: string;
const processes: ServerProcess[] = [];
const sockets: DesktopSocket[] = [];

async function startProcess(): Promise<ServerProcess> {
  const server = await startServerProcess({
    env: { REDIS_URL: redis.url, PUBLIC_ORIGIN: ORIGIN, REDIS_KEY_PREFIX: "mp:" },
  });
  processes.push(server);
  return server;
}

function socketTo(server: ServerProcess): DesktopSocket {
  const socket = new DesktopSocket(server.url, { origin: ORIGIN });
  sockets.push(socket);
  return socket;
}

const client = (server: ServerProcess, userAgent: string): HttpClient =>
  new HttpClient(server.url, { userAgent, origin: ORIGIN });

describe.skipIf(!redisServerAvailable())("several server processes sharing one Redis", () => {
  beforeAll(async () => {
    // Its own Redis, with an append-only file, so the outage test can stop and restart it.
    dataDir = mkdtempSync(path.join(tmpdir(), "countersign-redis-"));
    redis = await startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "always", "--dir", dataDir] });
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const server of processes.splice(0)) {
      server.kill("SIGKILL");
      await server.exited;
    }
  });

  afterAll(async () => {
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("desktop watches on A, phone approves on B: A's socket gets every update in order; redeem on B", async () => {
    const [a, b] = await Promise.all([startProcess(), startProcess()]);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const phoneOnB = client(b, PHONE_UA);
    await enrolPhone(phoneOnB, authenticator, { username: "multi", displayName: "Multi" });

    const login = await createLogin(client(a, DESKTOP_UA));
    const socket = socketTo(a);
    await socket.connected();
    expect(await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret })).toMatchObject({ ok: true });

    const opened = await openFromQr(phoneOnB, login);
    expect((await approveOpened(phoneOnB, authenticator, opened)).status).toBe(200);
    await socket.waitForStatus("approved");

    const desktopOnB = client(b, DESKTOP_UA);
    const redeemed = await desktopOnB.post(API_PATHS.loginRedeem(login.login.id), {
      desktopSecret: login.desktopSecret,
    });
    expect(redeemed.status).toBe(200);
    await socket.waitForStatus("redeemed");
    expect(socket.statuses()).toEqual(["scanned", "approved", "redeemed"]);
    expect(socket.updates.map((update) => update.version)).toEqual([2, 3, 4]);

    // The session lives in Redis: process A knows the cookie B set.
    const desktopOnA = client(a, DESKTOP_UA);
    for (const [name, value] of desktopOnB.cookies) desktopOnA.cookies.set(name, value);
    expect((await desktopOnA.get(API_PATHS.session)).status).toBe(200);
  });

  it("survives SIGKILL of the desktop's process: it reconnects to B, resynchronises and completes", async () => {
    const [a, b] = await Promise.all([startProcess(), startProcess()]);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const phoneOnB = client(b, PHONE_UA);
    await enrolPhone(phoneOnB, authenticator, { username: "killed", displayName: "Killed" });

    const login = await createLogin(client(a, DESKTOP_UA));
    const watch = { id: login.login.id, desktopSecret: login.desktopSecret };
    const onA = socketTo(a);
    await onA.connected();
    await onA.watch(watch);
    const opened = await openFromQr(phoneOnB, login);
    await onA.waitForStatus("scanned");

    a.kill("SIGKILL");
    await a.exited;
    const onB = socketTo(b);
    await onB.connected();
    const ack = await onB.watch(watch);
    expect(ack).toMatchObject({ ok: true, login: { status: "scanned", version: 2 } });

    expect((await approveOpened(phoneOnB, authenticator, opened)).status).toBe(200);
    await onB.waitForStatus("approved");
    const redeemed = await client(b, DESKTOP_UA).post(API_PATHS.loginRedeem(login.login.id), watch);
    expect(redeemed.status).toBe(200);
    await onB.waitForStatus("redeemed");

    // Everything the desktop saw, in order, each version once: nothing lost, nothing twice.
    const seen = [...onA.updates, ...(ack.ok ? [ack.login] : []), ...onB.updates].map((view) => view.version);
    expect(seen).toEqual([2, 2, 3, 4]);
    expect(onB.statuses()).toEqual(["approved", "redeemed"]);
  });

  it("answers 503 while Redis is down, stays up, and completes the flow once Redis is back", async () => {
    const [a, b] = await Promise.all([startProcess(), startProcess()]);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const phoneOnB = client(b, PHONE_UA);
    await enrolPhone(phoneOnB, authenticator, { username: "outage", displayName: "Outage" });
    const login = await createLogin(client(a, DESKTOP_UA));
    const socket = socketTo(a);
    await socket.connected();
    await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret });
    const opened = await openFromQr(phoneOnB, login);

    await redis.stop();
    const created = await client(a, DESKTOP_UA).post(API_PATHS.logins, {});
    expect(created.status).toBe(503);
    expect((created.body as ErrorResponse).error.code).toBe("STORE_UNAVAILABLE");
    const approval = await approveOpened(phoneOnB, authenticator, opened);
    expect(approval.status).toBe(503);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);

    await redis.restart();
    for (const server of [a, b]) await waitUntilReady(server);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();

    // The failed attempt changed nothing: the request is still waiting for a decision.
    const retry = await phoneOnB.post<OpenApprovalResponse["approval"]>(
      API_PATHS.loginApprovalOptions(login.login.id),
      {
        qrToken: opened.qrToken,
      },
    );
    expect(retry.status).toBe(200);
    const approved = await approveOpened(phoneOnB, authenticator, { ...opened, approval: retry.body });
    expect(approved.status).toBe(200);
    await socket.waitForStatus("approved", 10_000);
    const redeemed = await client(a, DESKTOP_UA).post(API_PATHS.loginRedeem(login.login.id), {
      desktopSecret: login.desktopSecret,
    });
    expect(redeemed.status).toBe(200);
  });
});

async function waitUntilReady(server: ServerProcess): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 15_000) {
    if ((await fetch(`${server.url}/readyz`)).ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`process on ${server.url} never became ready again:\n${server.output()}`);
}
