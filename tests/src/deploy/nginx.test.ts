import { get as httpsGet } from "node:https";
import { connect } from "node:net";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  ERROR_CODES,
  ERROR_STATUS,
  SOCKET_EVENTS,
  type ClientToServerEvents,
  type ErrorResponse,
  type LoginView,
  type ServerToClientEvents,
} from "@countersign/shared";
import { desktopProof, newDesktopKey } from "../support/desktop-key.js";
import { approveOpened, createLogin, enrolPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { nginxAvailable, startNginx, type Nginx } from "../support/nginx.js";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../support/redis-server.js";
import { freePort, startServerProcess, type ServerProcess } from "../support/server-process.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** The public origin every process is configured with and every client sends, as behind a real domain. */
const ORIGIN = "http://countersign.test";

let redis: RedisServer;
let nginx: Nginx;
let processes: [ServerProcess, ServerProcess];
let testNumber = 0;
const pageSockets: Socket[] = [];

const client = (userAgent: string): HttpClient => new HttpClient(nginx.url, { userAgent, origin: ORIGIN });

/** What the answers through nginx were, by status: `{ "201": 812 }`; network failures under "error". */
type Tally = Record<string, number>;

describe.skipIf(!nginxAvailable() || !redisServerAvailable())(
  "two processes behind Debian's nginx (deploy/nginx.conf)",
  () => {
    beforeAll(async () => {
      redis = await startRedisServer();
    });

    beforeEach(async () => {
      testNumber += 1;
      const ports: [number, number] = [await freePort(), await freePort()];
      // A prefix per test: nothing one test leaves in Redis reaches the next.
      const env = {
        REDIS_URL: redis.url,
        PUBLIC_ORIGIN: ORIGIN,
        TRUST_PROXY: "loopback",
        REDIS_KEY_PREFIX: `nginx${testNumber}:`,
      };
      processes = (await Promise.all(ports.map((port) => startServerProcess({ env, port })))) as [
        ServerProcess,
        ServerProcess,
      ];
      nginx = await startNginx({ upstreamPorts: ports });
    });

    afterEach(async () => {
      for (const socket of pageSockets.splice(0)) socket.close();
      await nginx?.stop();
      for (const server of processes) {
        server.kill("SIGKILL");
        await server.exited;
      }
    });

    afterAll(async () => {
      await redis?.stop();
    });

    it("serves a complete QR sign-in through nginx, over HTTP and the websocket, and its TLS listener answers", async () => {
      const authenticator = new SoftAuthenticator({ origin: ORIGIN });
      const phone = client(PHONE_UA);
      const desktop = client(DESKTOP_UA);
      await enrolPhone(phone, authenticator, { username: "behind-nginx", displayName: "Behind nginx" });

      const login = await createLogin(desktop);
      const page = await openPageSocket({ id: login.login.id, desktopSecret: login.desktopSecret });
      expect(page.watched.at(-1)).toMatchObject({ status: "pending" });
      const opened = await openFromQr(phone, login);
      await page.waitForStatus("scanned");
      expect((await approveOpened(phone, authenticator, opened)).status).toBe(200);
      await page.waitForStatus("approved");
      const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), {
        desktopSecret: login.desktopSecret,
      });
      expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
      await page.waitForStatus("redeemed");
      expect((await desktop.get(API_PATHS.session)).status).toBe(200);

      // Both processes took part: nginx spreads the requests.
      const answeredBy = new Set(nginx.accessLog().map((line) => /upstream=(\S+)/.exec(line)?.[1]));
      for (const server of processes) expect(answeredBy).toContain(`127.0.0.1:${server.port}`);

      // The TLS and HTTP/2 listener, as shipped (with a self-signed certificate here).
      const overTls = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        httpsGet(`${nginx.tlsUrl}/healthz`, { ca: nginx.certificate, checkServerIdentity: () => undefined }, (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        }).once("error", reject);
      });
      expect(overTls).toEqual({ status: 200, body: JSON.stringify({ status: "ok" }) });
    });

    it("survives kill -9 of the process holding the page's socket: the page reconnects through nginx, resynchronises, and gets the approval", async () => {
      const authenticator = new SoftAuthenticator({ origin: ORIGIN });
      const phone = client(PHONE_UA);
      const desktop = client(DESKTOP_UA);
      await enrolPhone(phone, authenticator, { username: "failover", displayName: "Failover" });
      const login = await createLogin(desktop);
      const page = await openPageSocket({ id: login.login.id, desktopSecret: login.desktopSecret });
      const opened = await openFromQr(phone, login);
      await page.waitForStatus("scanned");

      const holder = await processHolding(page.socket);
      holder.kill("SIGKILL");
      await holder.exited;
      // The page notices, reconnects through nginx to the survivor and watches again: the answer
      // is the request as it stands.
      await page.waitForWatches(2);
      expect(page.watched.at(-1)).toMatchObject({ status: "scanned", version: 2 });

      expect((await approveOpened(phone, authenticator, opened)).status).toBe(200);
      await page.waitForStatus("approved");
      const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), {
        desktopSecret: login.desktopSecret,
      });
      expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
      await page.waitForStatus("redeemed");
    });

    it("SIGTERM of one process under a load of POSTs through nginx fails none of them", async () => {
      const { publicKey } = await newDesktopKey();
      const tally: Tally = {};
      let completed = 0;
      let stopLoad = false;
      const progress = new Set<() => void>();
      let address = 0;
      // One POST that stores something per call, from many addresses (nginx passes each in
      // X-Forwarded-For, after the test's own trusted loopback hop), so no per-address limit
      // answers 429 instead of the process.
      const createOne = async (): Promise<void> => {
        address += 1;
        let outcome: string;
        try {
          const response = await fetch(`${nginx.url}${API_PATHS.logins}`, {
            method: "POST",
            headers: {
              origin: ORIGIN,
              "content-type": "application/json",
              "user-agent": DESKTOP_UA,
              "x-forwarded-for": `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`,
            },
            body: JSON.stringify({ desktopKey: publicKey }),
          });
          await response.arrayBuffer();
          outcome = String(response.status);
        } catch {
          outcome = "error";
        }
        tally[outcome] = (tally[outcome] ?? 0) + 1;
        completed += 1;
        for (const check of [...progress]) check();
      };
      const worker = async (): Promise<void> => {
        while (!stopLoad) await createOne();
      };
      const completedAtLeast = (count: number): Promise<void> =>
        new Promise((resolve) => {
          const check = (): void => {
            if (completed < count) return;
            progress.delete(check);
            resolve();
          };
          progress.add(check);
          check();
        });

      const workers = Array.from({ length: 8 }, () => worker());
      try {
        // Under way on both processes, then the signal, with requests in flight on both.
        await completedAtLeast(200);
        const [stopped] = processes;
        stopped.kill("SIGTERM");
        expect(await stopped.exited).toBe(0);
        // And the load goes on, on the survivor alone.
        await completedAtLeast(completed + 100);
      } finally {
        stopLoad = true;
        await Promise.all(workers);
      }

      expect(tally, JSON.stringify(tally)).toEqual({ "201": completed });
      const log = nginx.accessLog();
      expect(log.filter((line) => /" 5\d\d /.test(line))).toEqual([]);
      // nginx's word too: no request lost to a connection a process closed under it. (Refused
      // connections are expected: nginx tried the stopped process and went on to the other.)
      expect(nginx.errorLog()).not.toMatch(/prematurely closed|reset by peer|timed out|no live upstreams/);
      // The stopped process had served its share before the signal.
      const [stopped] = processes;
      expect(log.some((line) => line.includes(`upstream=127.0.0.1:${stopped.port} `))).toBe(true);
    });

    it("answers its own errors in the API's JSON format: a body too large, an unreadable request, no process left", async () => {
      const tooLarge = await fetch(`${nginx.url}${API_PATHS.logins}`, {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/json" },
        body: JSON.stringify({ padding: "x".repeat(40 * 1024) }),
      });
      await expectProxyError(tooLarge, 413, "PAYLOAD_TOO_LARGE");

      // A request line nginx cannot parse never reaches a process.
      const garbled = await rawRequest(nginx.url, "GET /healthz HTTP/1.1 nonsense\r\nHost: x\r\n\r\n");
      expect(garbled).toMatch(/^HTTP\/1\.1 400 /);
      expect(garbled).toMatch(/\r\nContent-Type: application\/json\r\n/i);
      expect(JSON.parse(garbled.split("\r\n\r\n")[1]!)).toMatchObject({ error: { code: "MALFORMED_REQUEST" } });

      // The processes' own errors pass through untouched.
      const fromProcess = await fetch(`${nginx.url}/api/no-such-route`, { headers: { origin: ORIGIN } });
      expect(fromProcess.status).toBe(404);
      expect(((await fromProcess.json()) as ErrorResponse).error).toEqual({
        code: "NOT_FOUND",
        message: "No such API route.",
      });

      for (const server of processes) {
        server.kill("SIGKILL");
        await server.exited;
      }
      await expectProxyError(await fetch(`${nginx.url}/healthz`), 502, "BAD_GATEWAY");
    });
  },
);

/** An answer nginx made itself: the status, and a JSON body with an API error code of that status. */
async function expectProxyError(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  expect(response.headers.get("cache-control")).toBe("no-store");
  const body = (await response.json()) as ErrorResponse;
  expect(body.error.code).toBe(code);
  expect(ERROR_CODES).toContain(body.error.code);
  expect(ERROR_STATUS[body.error.code]).toBe(status);
  expect(typeof body.error.message).toBe("string");
}

/** Sends raw bytes to `url`'s host and port and resolves with everything nginx answers. */
function rawRequest(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.once("end", () => resolve(received));
    socket.once("error", reject);
  });
}

/**
 * The desktop page's socket as web/src/login-socket.ts makes it: websocket only, reconnecting by
 * itself, and watching its request again, with a fresh proof, after every connect. Records each
 * watch's answer and every update, in order.
 */
async function openPageSocket(watch: { id: string; desktopSecret: string }): Promise<{
  socket: Socket;
  watched: LoginView[];
  waitForWatches(count: number): Promise<void>;
  waitForStatus(status: LoginView["status"]): Promise<void>;
}> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(nginx.url, {
    transports: ["websocket"],
    forceNew: true,
    extraHeaders: { origin: ORIGIN },
  });
  pageSockets.push(socket);
  const watched: LoginView[] = [];
  const updates: LoginView[] = [];
  const waiters = new Set<() => void>();
  const changed = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const until = (holds: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!holds()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  socket.on(SOCKET_EVENTS.loginUpdate, (login) => {
    updates.push(login);
    changed();
  });
  socket.on("connect", () => {
    void desktopProof({ origin: nginx.url, id: watch.id, use: "watch" }).then((proof) =>
      socket.emit(SOCKET_EVENTS.loginWatch, { ...watch, proof }, (ack) => {
        if (ack.ok) watched.push(ack.login);
        changed();
      }),
    );
  });
  await until(() => watched.length === 1);
  return {
    socket,
    watched,
    waitForWatches: (count) => until(() => watched.length >= count),
    waitForStatus: (status) => until(() => [...watched, ...updates].some((login) => login.status === status)),
  };
}

/**
 * Which process holds `socket`'s connection, by Engine.IO's own answer: asked about a session
 * that runs over a websocket, a polling request gets "Bad request" (code 3) from the process
 * that holds it and "Session ID unknown" (code 1) from any other.
 */
async function processHolding(socket: Socket): Promise<ServerProcess> {
  const sid = socket.io.engine.id;
  const codes = await Promise.all(
    processes.map(async (server) => {
      const response = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
      return ((await response.json()) as { code: number }).code;
    }),
  );
  expect(codes.slice().sort()).toEqual([1, 3]);
  return processes[codes.indexOf(3)]!;
}
