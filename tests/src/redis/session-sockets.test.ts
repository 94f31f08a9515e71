import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_PATHS } from "@countersign/shared";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../support/redis-server.js";
import {
  accountWithTwoPhones,
  expectNoPushAfterSessionEnded,
  sessionIdOf,
  type Deployment,
  type TwoPhones,
} from "../support/revoked-phone.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

/** What a load balancer would present: one public origin in front of both processes. */
const ORIGIN = "http://countersign.test";

let redis: RedisServer;
let processes: ServerProcess[] = [];
let phones: TwoPhones | undefined;

describe.skipIf(!redisServerAvailable())("a revoked phone's socket on process A, revoked and pushed through B", () => {
  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterEach(async () => {
    phones?.close();
    for (const server of processes.splice(0)) {
      server.kill("SIGKILL");
      await server.exited;
    }
  });

  afterAll(async () => {
    await redis?.stop();
  });

  async function twoProcesses(): Promise<Deployment> {
    processes = await Promise.all(
      [1, 2].map(() =>
        startServerProcess({ env: { REDIS_URL: redis.url, PUBLIC_ORIGIN: ORIGIN, REDIS_KEY_PREFIX: "revoke:" } }),
      ),
    );
    return { origin: ORIGIN, socketUrl: processes[0]!.url, httpUrl: processes[1]!.url };
  }

  it("hears nothing of a later push once another phone revoked it", async () => {
    const deployment = await twoProcesses();
    phones = await accountWithTwoPhones({ deployment, username: "ruth" });
    const id = await sessionIdOf(phones.first, phones.second);
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "ruth",
      reason: "revoked",
      endSession: async () => {
        expect((await phones!.second.delete(API_PATHS.approverSessionById(id))).status).toBe(204);
      },
    });
  });

  it("hears nothing of a later push once it signed out", async () => {
    const deployment = await twoProcesses();
    phones = await accountWithTwoPhones({ deployment, username: "sara" });
    await expectNoPushAfterSessionEnded({
      deployment,
      phones,
      username: "sara",
      reason: "signed_out",
      endSession: async () => {
        expect((await phones!.first.delete(API_PATHS.approverSession)).status).toBe(204);
      },
    });
  });
});
