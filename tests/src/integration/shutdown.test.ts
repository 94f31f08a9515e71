import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { API_PATHS } from "@countersign/shared";
import { newDesktopKey } from "../support/desktop-key.js";
import { startServerProcess } from "../support/server-process.js";
import { DesktopSocket } from "../support/socket-client.js";

describe("graceful shutdown on SIGTERM", () => {
  it("stops accepting, closes sockets, finishes the request in flight, and exits 0", async () => {
    const server = await startServerProcess({ env: {} });
    // Nothing set but the port: the default origin follows it.
    const origin = `http://localhost:${server.port}`;
    const socket = new DesktopSocket(server.url, { origin });
    await socket.connected();
    const events: string[] = [];
    const disconnected = new Promise<void>((resolve) =>
      socket.socket.once("disconnect", () => {
        events.push("socket closed");
        resolve();
      }),
    );

    // A request whose body is only half sent when the signal arrives. "Expect: 100-continue"
    // makes the server acknowledge the headers, so SIGTERM comes once the request is in flight.
    const body = JSON.stringify({ desktopKey: (await newDesktopKey()).publicKey });
    let finishBody: () => void = () => undefined;
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}${API_PATHS.logins}`, {
        method: "POST",
        headers: {
          origin,
          expect: "100-continue",
          "content-type": "application/json",
          "content-length": String(body.length + 1),
        },
      });
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => {
          events.push("request finished");
          resolve(res.statusCode ?? 0);
        });
      });
      req.on("error", reject);
      req.on("continue", () => {
        req.write(" ");
        server.kill("SIGTERM");
      });
      finishBody = () => req.end(body);
    });

    // The server closes the socket at once, while the request is still unfinished: the body is
    // sent only after the close, so a server that waited for the request first would never close.
    await disconnected;
    finishBody();
    // And the request in flight still finishes, on the same, still-running process.
    expect(await inFlight).toBe(201);
    expect(events).toEqual(["socket closed", "request finished"]);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(await server.exited).toBe(0);
    socket.close();
  });
});
