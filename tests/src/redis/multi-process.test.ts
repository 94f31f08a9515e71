import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect, type Socket } from "node:net";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  API_PATHS,
  type CreatePushLoginResponse,
  type ErrorResponse,
  type OpenApprovalResponse,
  type PushKeyResponse,
} from "@countersign/shared";
import { approveOpened, createLogin, enrolPhone, openFromQr, qrLinkOf } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { startPushEndpoint } from "../support/push-endpoint.js";
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

  it("a QR frame pushed by process A opens on process B, one two steps old is refused there, and B's decision stops A's frames", async () => {
    const [a, b] = await Promise.all([startProcess(), startProcess()]);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const phoneOnB = client(b, PHONE_UA);
    await enrolPhone(phoneOnB, authenticator, { username: "frames", displayName: "Frames" });
    const login = await createLogin(client(a, DESKTOP_UA));
    // A second request on the same socket, left waiting: its frames are this test's clock.
    const control = await createLogin(client(a, DESKTOP_UA));
    const socket = socketTo(a);
    await socket.connected();
    for (const watched of [login, control]) {
      const ack = await socket.watch({ id: watched.login.id, desktopSecret: watched.desktopSecret });
      expect(ack).toMatchObject({ ok: true, qr: { id: watched.login.id } });
    }

    // Real processes on the real clock: A pushes a frame at the start of each step (QR_STEP_MS).
    const previous = await socket.waitForFrame({ id: login.login.id, step: login.qr.step + 1 });
    const current = await socket.waitForFrame({ id: login.login.id, step: previous.step + 1 });
    // The tightest first: the previous step's frame opens only until the current step ends.
    const opened = await openFromQr(phoneOnB, previous);
    expect((await phoneOnB.post(API_PATHS.approvalsOpen, qrLinkOf(current))).status).toBe(200);
    const stale = await phoneOnB.post(API_PATHS.approvalsOpen, qrLinkOf(login));
    expect([stale.status, (stale.body as ErrorResponse).error.code]).toEqual([404, "LOGIN_NOT_FOUND"]);
    // The capability B handed out works on A too: it derives from the shared key.
    const optionsOnA = await client(a, PHONE_UA).post(API_PATHS.loginApprovalOptions(login.login.id), {
      qrToken: opened.qrToken,
    });
    expect(optionsOnA.status, JSON.stringify(optionsOnA.body)).toBe(200);

    expect((await approveOpened(phoneOnB, authenticator, opened)).status).toBe(200);
    await socket.waitForStatus("approved");
    const stepAtApproval = socket.framesOf(control.login.id).at(-1)!.step;
    await socket.waitForFrame({ id: control.login.id, step: stepAtApproval + 2 });
    // The end reaches A through the adapter as the update did; a frame may cross it at the edge
    // of a step, never two steps later.
    expect(socket.framesOf(login.login.id).filter((frame) => frame.step > stepAtApproval + 1)).toEqual([]);
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
    expect(await onA.watch(watch)).toMatchObject({ ok: true, login: { status: "pending" } });
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
    const watched = await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret });
    expect(watched).toMatchObject({ ok: true });
    const opened = await openFromQr(phoneOnB, login);
    await socket.waitForStatus("scanned");

    await redis.stop();
    const created = await client(a, DESKTOP_UA).post(API_PATHS.logins, {});
    expect(created.status).toBe(503);
    expect((created.body as ErrorResponse).error.code).toBe("STORE_UNAVAILABLE");
    const approval = await approveOpened(phoneOnB, authenticator, opened);
    expect(approval.status).toBe(503);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);

    await redis.restart();
    await connectionsBack({ processes: 2 });
    for (const server of [a, b]) expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
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
    await socket.waitForStatus("redeemed");
  });

  it("web push: a phone subscribed on A gets one notification for a push made on B, under the key both share", async () => {
    const pushService = await startPushEndpoint();
    try {
      // A prefix of its own: the key pair is made here, by whichever process claims it first.
      const env = {
        REDIS_URL: redis.url,
        PUBLIC_ORIGIN: ORIGIN,
        REDIS_KEY_PREFIX: "mp-push:",
        WEB_PUSH_DEV_LOOPBACK: "true",
      };
      const [a, b] = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
      processes.push(a, b);
      const [keyOnA, keyOnB] = await Promise.all(
        [a, b].map((server) => client(server, PHONE_UA).get<PushKeyResponse>(API_PATHS.approverPushKey)),
      );
      expect([keyOnA!.status, keyOnB!.status]).toEqual([200, 200]);
      expect(keyOnB!.body.publicKey).toBe(keyOnA!.body.publicKey);

      const phoneOnA = client(a, PHONE_UA);
      await enrolPhone(phoneOnA, new SoftAuthenticator({ origin: ORIGIN }), { username: "ring", displayName: "Ring" });
      const subscription = pushService.subscribe("phone");
      const subscribed = await phoneOnA.request("PUT", API_PATHS.approverPushSubscription, { json: subscription.json });
      expect(subscribed.status).toBe(204);

      const pushed = await client(b, DESKTOP_UA).post<CreatePushLoginResponse>(API_PATHS.pushLogins, {
        username: "ring",
      });
      expect(pushed.status).toBe(201);
      const { id } = pushed.body.login;
      const request = await pushService.waitFor("the request", (got) => got.message.id === id);
      expect(request.headers.authorization).toMatch(new RegExp(`, k=${keyOnA!.body.publicKey}$`));

      // Cancelled on A: A alone hears that change, and sends the "resolved".
      const cancelled = await client(a, DESKTOP_UA).post(API_PATHS.loginCancel(id), {
        desktopSecret: pushed.body.desktopSecret,
      });
      expect(cancelled.status).toBe(200);
      await pushService.waitFor("the resolution", (got) => got.message.id === id && got.message.kind === "resolved");
      // A marker: anything either process sent for the first request arrived before the next one.
      const next = await client(a, DESKTOP_UA).post<CreatePushLoginResponse>(API_PATHS.pushLogins, {
        username: "ring",
      });
      expect(next.status).toBe(201);
      await pushService.waitFor("the next request", (got) => got.message.id === next.body.login.id);
      expect(pushService.received.map((got) => [got.message.kind, got.message.id])).toEqual([
        ["request", id],
        ["resolved", id],
        ["request", next.body.login.id],
      ]);
    } finally {
      await pushService.close();
    }
  });
});

/** The commands after which an ioredis connection is back in service, as Redis sees them. */
const BACK_AFTER: Record<string, string> = {
  // ioredis's ready check; it takes the connection into service as soon as the answer arrives.
  "countersign:store": "info",
  "countersign:pub": "info",
  // The Socket.IO adapter's subscriptions, which ioredis renews once ready (psubscribe last).
  "countersign:sub": "psubscribe",
};

/**
 * Resolves once Redis has seen every process's three connections come back into service after
 * a restart: an event Redis itself reports, through MONITOR for what happens from now on and
 * CLIENT LIST for what happened before MONITOR started.
 */
async function connectionsBack(options: { processes: number }): Promise<void> {
  const names = new Map<string, string>();
  const done = new Map<string, Set<string>>();
  const did = (address: string, command: string): void => {
    done.set(address, (done.get(address) ?? new Set()).add(command));
  };
  const countBack = (): number =>
    [...names].filter(([address, name]) => done.get(address)?.has(BACK_AFTER[name] ?? "")).length;
  const expected = options.processes * Object.keys(BACK_AFTER).length;

  let allBack: () => void = () => undefined;
  const back = new Promise<void>((resolve) => (allBack = resolve));
  const check = (): void => {
    if (countBack() >= expected) allBack();
  };

  const monitor = await monitorRedis(redis.port, (address, [command = "", subcommand = "", name = ""]) => {
    if (command.toLowerCase() === "client" && subcommand.toLowerCase() === "setname") names.set(address, name);
    else did(address, command.toLowerCase());
    check();
  });
  try {
    const admin = new Redis(redis.url);
    const listed = (await admin.client("LIST")) as string;
    await admin.quit();
    for (const line of listed.trim().split("\n")) {
      const fields = Object.fromEntries(line.split(" ").map((field) => field.split("=", 2) as [string, string]));
      if (!fields.name || !fields.addr) continue;
      names.set(fields.addr, fields.name);
      // Past its handshake (hello, client setname/setinfo) means past its ready check too.
      if (!/^(hello|client\|)/.test(fields.cmd ?? "hello")) did(fields.addr, "info");
      if (Number(fields.psub) > 0) did(fields.addr, "psubscribe");
    }
    check();
    // Only on what Redis saw: a process that never comes back fails the test by its timeout.
    await back;
  } finally {
    monitor.destroy();
  }
}

/**
 * Redis's MONITOR on a plain socket (ioredis's monitor mode can misread lines that arrive with
 * its OK): resolves once MONITOR is on, then calls `onCommand` with each command's client
 * address and arguments.
 */
function monitorRedis(port: number, onCommand: (address: string, args: string[]) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.setEncoding("utf8");
    socket.once("error", reject);
    let buffered = "";
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf("\r\n"); end >= 0; end = buffered.indexOf("\r\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line === "+OK") resolve(socket);
        // +<time> [<db> <address>] "<command>" "<argument>" ...
        const match = /^\+[\d.]+ \[\d+ (\S+)\] (.*)$/.exec(line);
        if (match === null) continue;
        const args = [...match[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((arg) => arg[1]!);
        onCommand(match[1]!, args);
      }
    });
    socket.write("MONITOR\r\n");
  });
}
