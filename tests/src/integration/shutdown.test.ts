import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { API_PATHS } from "@countersign/shared";
import { startServerProcess } from "../support/server-process.js";
import { DesktopSocket } from "../support/socket-client.js";

describe("graceful shutdown on SIGTERM", () => {
  it("stops accepting, closes sockets, finishes the request in flight, and exits 0", async () => {
    const server = await startServerProcess({ env: {} });
    const origin = "http://localhost:3000";
    const socket = new DesktopSocket(server.url, { origin });
    await socket.connected();
    const events: string[] = [];
    const disconnected = new Promise<void>((resolve) =>
      socket.socket.once("disconnect", () => {
        events.push("socket closed");
        resolve();
      }),
    );

    // A request whose body is only half sent when the signal arrives.
    const body = JSON.stringify({});
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(
        `${server.url}${API_PATHS.logins}`,
        {
          method: "POST",
          headers: { origin, "content-type": "application/json", "content-length": String(body.length + 1) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            events.push("request finished");
            resolve(res.statusCode ?? 0);
          });
        },
      );
      req.on("error", reject);
      req.write(" ");
      setTimeout(() => {
        server.kill("SIGTERM");
        setTimeout(() => req.end(body), 300);
      }, 100);
    });

    await disconnected;
    expect(await inFlight).toBe(201);
    // The server closed the socket itself, at once, while the request was still running.
    expect(events).toEqual(["socket closed", "request finished"]);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(await server.exited).toBe(0);
    socket.close();
  });
});
