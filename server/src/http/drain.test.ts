import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { prepareDrain, type Drain } from "./drain.js";

/** A kept-alive client connection, as a proxy holds one: raw, so the test sees every byte and the close. */
interface RawConnection {
  socket: Socket;
  /** Sends one GET and resolves with the raw response once its body has arrived. */
  get(path: string): Promise<string>;
  /** Resolves once the server has closed the connection. */
  ended: Promise<void>;
}

let server: Server;
let drainable: Drain;
let release: () => void = () => undefined;
const connections: RawConnection[] = [];

async function startServer(options: { behindProxy: boolean } = { behindProxy: true }): Promise<number> {
  server = createServer((req, res) => {
    if (req.url === "/slow") {
      release = () => res.end("slow");
      return;
    }
    res.end("ok");
  });
  drainable = prepareDrain({ httpServer: server, isProxy: () => options.behindProxy });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function openConnection(port: number): Promise<RawConnection> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.setEncoding("utf8");
  let received = "";
  let waiter: (() => void) | null = null;
  socket.on("data", (chunk: string) => {
    received += chunk;
    waiter?.();
  });
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const connection: RawConnection = {
    socket,
    ended,
    get: (path) =>
      new Promise((resolve, reject) => {
        received = "";
        const complete = (): boolean => /\r\n\r\n/.test(received) && /\r\n\r\n(ok|slow)$/.test(received);
        waiter = () => {
          if (complete()) resolve(received);
        };
        socket.once("close", () => (complete() ? resolve(received) : reject(new Error(`closed after "${received}"`))));
        socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
      }),
  };
  connections.push(connection);
  return connection;
}

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.socket.destroy();
  server.closeAllConnections();
  if (server.listening) await new Promise((resolve) => server.close(resolve));
});

describe("prepareDrain(...).drain()", () => {
  it("keeps a proxy's idle kept-alive connections open, answers the next request on one with Connection: close, and resolves once all have closed", async () => {
    const port = await startServer();
    const [a, b] = [await openConnection(port), await openConnection(port)];
    for (const connection of [a, b])
      expect(await connection.get("/")).toMatch(/^HTTP\/1\.1 200[^]*Connection: keep-alive/i);
    let drained = false;
    const draining = drainable.drain({ graceMs: 10_000 }).then(() => (drained = true));

    // What a proxy does at this moment: send a request on a connection it keeps. http.Server's
    // own close() would have reset it, failing the request.
    const answer = await a.get("/");
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    await a.ended;
    expect(drained).toBe(false);

    // The other stays open until its client closes it (a proxy's idle timeout is the shorter).
    b.socket.end();
    await draining;
    expect(drained).toBe(true);
  });

  it("closes anyone else's idle connections at once, and then resolves", async () => {
    const port = await startServer({ behindProxy: false });
    const browser = await openConnection(port);
    expect(await browser.get("/")).toMatch(/^HTTP\/1\.1 200[^]*Connection: keep-alive/i);
    await drainable.drain({ graceMs: 10_000 });
    await browser.ended;
  });

  it("refuses new connections at once", async () => {
    const port = await startServer();
    const kept = await openConnection(port);
    expect(await kept.get("/")).toMatch(/^HTTP\/1\.1 200/);
    void drainable.drain({ graceMs: 10_000 });
    await expect(openConnection(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("lets a request in flight finish, answers it with Connection: close, and then closes its connection", async () => {
    const port = await startServer();
    const connection = await openConnection(port);
    const slow = connection.get("/slow");
    // Wait for the request to reach the handler, on the server's own word.
    await new Promise<void>((resolve) => server.once("request", () => setImmediate(resolve)));
    const draining = drainable.drain({ graceMs: 10_000 });
    release();
    expect(await slow).toMatch(/^HTTP\/1\.1 200[^]*\r\nConnection: close\r\n[^]*slow$/i);
    await connection.ended;
    await draining;
  });

  it("cuts off a request still running when the grace period ends", async () => {
    const port = await startServer();
    const connection = await openConnection(port);
    const stuck = connection.get("/slow");
    await new Promise<void>((resolve) => server.once("request", () => setImmediate(resolve)));
    await drainable.drain({ graceMs: 50 });
    await expect(stuck).rejects.toThrow(/closed after ""/);
  });
});
