import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { Server as NetServer, type Socket } from "node:net";

export interface Drain {
  /**
   * Ends the server's service without failing a request that a reverse proxy is sending it.
   *
   * A proxy keeps connections open to reuse them, and may be writing a request on one at any
   * moment: a server that closes a connection it thinks idle (as `server.close()` does, through
   * `closeIdleConnections()`) fails that request, and a proxy cannot safely retry a POST on
   * another process, so the client gets a 502. Instead this:
   * - stops accepting: a new connection is refused, which a proxy retries elsewhere, since
   *   nothing was sent on it;
   * - answers every request, in flight or arriving from now on, with `Connection: close`, so its
   *   connection ends after that answer and the proxy does not reuse it;
   * - leaves a proxy's idle connections for the proxy, or the keep-alive timeout, to close (the
   *   proxy's own idle timeout should be the shorter: deploy/nginx.conf). Anyone else's idle
   *   connections close now: a browser resends a request that fails on a reused connection
   *   before any answer, and waiting for them would only hold the process up;
   * - after `graceMs`, cuts off whatever is left.
   *
   * Resolves once every connection has closed, or when the grace period ends. Websockets are
   * connections too: their owner closes them (app.ts).
   */
  drain(options: { graceMs: number }): Promise<void>;
}

/**
 * Follows `httpServer`'s requests from now on, so that drain() can reach those in flight.
 * `isProxy` says whether a connection from an address is a reverse proxy's (the trust proxy
 * setting's answer).
 */
export function prepareDrain(options: {
  httpServer: HttpServer;
  isProxy: (address: string | undefined) => boolean;
}): Drain {
  const { httpServer, isProxy } = options;
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  /** Connections that have carried a request (websockets never do: they upgrade instead). */
  const connections = new Set<Socket>();
  // First, so that it runs before any handler can answer.
  httpServer.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      res.setHeader("Connection", "close");
      return;
    }
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
    const { socket } = req;
    if (connections.has(socket)) return;
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
  });

  return {
    drain({ graceMs }) {
      draining = true;
      const busy = new Set<Socket>();
      // Node decides keep-alive when it writes the headers: not yet written, not yet decided.
      for (const res of inFlight) {
        busy.add(res.socket as Socket);
        if (!res.headersSent) res.setHeader("Connection", "close");
      }
      for (const socket of connections) if (!busy.has(socket) && !isProxy(socket.remoteAddress)) socket.destroy();
      inFlight.clear();
      connections.clear();
      return new Promise((resolve) => {
        const deadline = setTimeout(() => {
          httpServer.closeAllConnections();
          resolve();
        }, graceMs);
        deadline.unref();
        // net.Server's close, not http.Server's: the latter also closes the proxy's idle connections.
        NetServer.prototype.close.call(httpServer, () => {
          clearTimeout(deadline);
          resolve();
        });
      });
    },
  };
}
