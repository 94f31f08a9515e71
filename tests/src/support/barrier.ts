import { API_PATHS } from "@countersign/shared";
import { expect } from "vitest";
import { createLogin } from "./flows.js";
import { DESKTOP_UA, HttpClient } from "./http-client.js";
import type { DesktopSocket } from "./socket-client.js";

/** What a marker needs of a socket; desktop and approver sockets both have it. */
export type MarkedSocket = Pick<DesktopSocket, "watch" | "waitUntil" | "updates">;

/**
 * Runs `action`, then returns (with its result) once every socket in `sockets` has received
 * everything the server sent it because of the action: after this, "X did not arrive" is a
 * fact, not a guess made after a sleep.
 *
 * The marker: before the action, each socket watches a fresh desktop request; after it, that
 * request is cancelled and this waits until every socket has heard the cancel. One server
 * process sends its emits to one socket in order, and the action's emits are made before its
 * HTTP answers, so once the cancel is there, whatever the action caused is there too. Hence
 * `origin` must be the process that serves the action and holds the sockets.
 */
export async function markerAfter<T>(
  options: { origin: string; sockets: MarkedSocket[] },
  action: () => Promise<T>,
): Promise<T> {
  const desktop = new HttpClient(options.origin, { userAgent: DESKTOP_UA });
  const marker = await createLogin(desktop);
  const secret = { id: marker.login.id, desktopSecret: marker.desktopSecret };
  for (const socket of options.sockets) {
    expect(await socket.watch(secret), "the marker's watch").toMatchObject({ ok: true });
  }
  const result = await action();
  const cancelled = await desktop.post(API_PATHS.loginCancel(marker.login.id), { desktopSecret: marker.desktopSecret });
  expect(cancelled.status, "the marker's cancel").toBe(200);
  await Promise.all(
    options.sockets.map((socket) =>
      socket.waitUntil(
        () => socket.updates.some((update) => update.id === marker.login.id && update.status === "cancelled"),
        "the marker's cancel",
      ),
    ),
  );
  return result;
}
