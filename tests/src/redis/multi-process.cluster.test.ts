import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_PATHS } from "@countersign/shared";
import { approveOpened, createLogin, enrolPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { redisServerAvailable } from "../support/redis-server.js";
import {
  accountWithTwoPhones,
  expectNoPushAfterSessionEnded,
  sessionIdOf,
  type TwoPhones,
} from "../support/revoked-phone.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** What a load balancer would present: one public origin in front of every process. */
const ORIGIN = "http://countersign.test";

let cluster: RedisCluster | undefined;
let a: ServerProcess;
let b: ServerProcess;
const sockets: DesktopSocket[] = [];
let phones: TwoPhones | undefined;

const client = (server: ServerProcess, userAgent: string): HttpClient =>
  new HttpClient(server.url, { userAgent, origin: ORIGIN });

/**
 * Two `node server/dist/main.js` processes on a three-master Redis Cluster (REDIS_CLUSTER_NODES):
 * the store's keys spread over the masters, and Socket.IO's messages travel by sharded pub/sub.
 */
describe.skipIf(!redisServerAvailable())("several server processes sharing one Redis Cluster", () => {
  beforeAll(async () => {
    cluster = await startRedisCluster();
    const env = { REDIS_CLUSTER_NODES: cluster.nodesSetting, PUBLIC_ORIGIN: ORIGIN, REDIS_KEY_PREFIX: "mpc:" };
    [a, b] = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
    phones?.close();
    phones = undefined;
  });

  afterAll(async () => {
    for (const server of [a, b]) {
      if (server === undefined) continue;
      server.kill("SIGKILL");
      await server.exited;
    }
    await cluster?.stop();
  });

  it("is ready on both processes", async () => {
    for (const server of [a, b]) expect((await fetch(`${server.url}/readyz`)).status, server.output()).toBe(200);
  });

  it("desktop watches on A, phone approves on B: A's socket gets every update in order; redeem on B", async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const phoneOnB = client(b, PHONE_UA);
    await enrolPhone(phoneOnB, authenticator, { username: "cluster", displayName: "Cluster" });

    const login = await createLogin(client(a, DESKTOP_UA));
    const socket = new DesktopSocket(a.url, { origin: ORIGIN });
    sockets.push(socket);
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
    expect(socket.updates.map((update) => update.version)).toEqual([2, 3, 4]);

    // The session lives in the Cluster: process A knows the cookie B set.
    const desktopOnA = client(a, DESKTOP_UA);
    for (const [name, value] of desktopOnB.cookies) desktopOnA.cookies.set(name, value);
    expect((await desktopOnA.get(API_PATHS.session)).status).toBe(200);
  });

  it("a phone revoked through B stops hearing pushes on its socket held by A", async () => {
    const deployment = { origin: ORIGIN, socketUrl: a.url, httpUrl: b.url };
    phones = await accountWithTwoPhones({ deployment, username: "sharded" });
    const id = await sessionIdOf(phones.first, phones.second);
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "sharded",
      reason: "revoked",
      endSession: async () => {
        expect((await phones!.second.delete(API_PATHS.approverSessionById(id))).status).toBe(204);
      },
    });
  });
});
