/**
 * Loaded into a benchmarked server with `node --expose-gc --import <this file>` by
 * bench-process.ts, never by production: it answers the benchmark's questions about the process
 * over the IPC channel the benchmark opened, so the server needs no endpoint for them.
 *
 *   { id, measure: "usage" }  → { id, cpu: process.cpuUsage(), memory: process.memoryUsage(), at }
 *   { id, measure: "settled" } → the same after full garbage collections, for heap per watcher
 *   and, unasked, { listening: port } whenever a server of the process starts listening
 *
 * Plain JavaScript, so the server runs without a TypeScript loader, as it does in production.
 */
import { subscribe } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import process from "node:process";

if (typeof process.send === "function") {
  process.on("message", (message) => {
    if (typeof message !== "object" || message === null || typeof message.id !== "number") return;
    if (message.measure === "settled") {
      // Twice: the first collection can leave finalised objects that only the second frees.
      globalThis.gc?.();
      globalThis.gc?.();
    }
    process.send({
      id: message.id,
      cpu: process.cpuUsage(),
      memory: process.memoryUsage(),
      at: performance.timeOrigin + performance.now(),
    });
  });
  // Tells the benchmark the moment a server of this process listens, so it waits on that
  // rather than polling (Node publishes every listen on this tracing channel).
  subscribe("tracing:net.server.listen:asyncEnd", ({ server }) => {
    const address = server.address();
    if (address !== null && typeof address === "object") process.send({ listening: address.port });
  });
  // The server decides when it exits; an open IPC channel must not keep it alive.
  process.channel?.unref();
}
