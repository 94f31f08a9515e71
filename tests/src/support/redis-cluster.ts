import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { startRedisServer, type RedisServer } from "./redis-server.js";
import { freePort } from "./server-process.js";

export interface RedisCluster {
  /** Every master, as seed nodes for an ioredis Cluster. */
  nodes: { host: string; port: number }[];
  /** The same as REDIS_CLUSTER_NODES expects them: "127.0.0.1:7001,127.0.0.1:7002,…". */
  nodesSetting: string;
  /** Stops one master (SIGTERM), leaving its slots without one: a Redis Cluster outage. */
  stopNode(index: number): Promise<void>;
  /** Stops every node and deletes their cluster files. */
  stop(): Promise<void>;
}

const SLOTS = 16_384;
const READY_TIMEOUT_MS = 15_000;
/** A node's cluster bus port is probed apart from its client port, so either may be taken. */
const START_ATTEMPTS = 3;

/**
 * A private Redis Cluster of `masters` masters (default 3) and no replicas, on free loopback
 * ports: redis-server processes started with cluster mode on, each given a contiguous share of
 * the 16384 slots (CLUSTER ADDSLOTSRANGE, Redis 7), then introduced to each other (CLUSTER MEET).
 * Resolves once every node reports cluster_state:ok. This is what `redis-cli --cluster create
 * --cluster-replicas 0` does, without needing redis-cli or its one-second polls.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const dataDir = mkdtempSync(path.join(tmpdir(), "countersign-cluster-"));
  const started: { server: RedisServer; busPort: number }[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map(({ server }) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    started.push(
      ...(await Promise.all(
        Array.from({ length: masters }, (_, index) => startClusterNode(path.join(dataDir, `node-${index}`))),
      )),
    );
    await formCluster(started.map(({ server, busPort }) => ({ port: server.port, busPort })));
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = started.map(({ server }) => ({ host: "127.0.0.1", port: server.port }));
  return {
    nodes,
    nodesSetting: nodes.map((node) => `${node.host}:${node.port}`).join(","),
    async stopNode(index) {
      const node = started[index];
      if (node === undefined) throw new Error(`the cluster has ${started.length} nodes, so no node ${index}`);
      await node.server.stop();
    },
    stop,
  };
}

async function startClusterNode(dir: string): Promise<{ server: RedisServer; busPort: number }> {
  mkdirSync(dir);
  for (let attempt = 1; ; attempt += 1) {
    // Redis 7 takes the bus port as an argument; the default (port + 10000) may not exist.
    const busPort = await freePort();
    try {
      const server = await startRedisServer({
        args: [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          path.join(dir, "nodes.conf"),
          "--cluster-port",
          String(busPort),
          "--dir",
          dir,
        ],
      });
      return { server, busPort };
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

async function formCluster(nodes: { port: number; busPort: number }[]): Promise<void> {
  const clients = nodes.map(({ port }) => new Redis({ host: "127.0.0.1", port, lazyConnect: true }));
  try {
    await Promise.all(clients.map((client) => client.connect()));
    const share = Math.ceil(SLOTS / nodes.length);
    await Promise.all(
      clients.map(async (client, index) => {
        // Distinct epochs, as redis-cli sets them: no two masters start out claiming one.
        await client.call("CLUSTER", "SET-CONFIG-EPOCH", String(index + 1));
        const first = index * share;
        await client.call("CLUSTER", "ADDSLOTSRANGE", String(first), String(Math.min(first + share, SLOTS) - 1));
      }),
    );
    const [introducer, ...others] = clients;
    for (const [index] of others.entries()) {
      const { port, busPort } = nodes[index + 1]!;
      await introducer!.call("CLUSTER", "MEET", "127.0.0.1", String(port), String(busPort));
    }
    const since = Date.now();
    for (;;) {
      const infos = await Promise.all(clients.map((client) => client.call("CLUSTER", "INFO")));
      if (infos.every((info) => /^cluster_state:ok\r?$/m.test(String(info)))) return;
      if (Date.now() - since > READY_TIMEOUT_MS) {
        throw new Error(`the Redis Cluster did not reach cluster_state:ok within ${READY_TIMEOUT_MS} ms:\n${infos[0]}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await Promise.allSettled(clients.map((client) => client.quit()));
  }
}
