import { Agent, request } from "node:http";

export interface LoadResponse {
  status: number;
  body: string;
  setCookie: string[];
}

/**
 * The load generator's HTTP: plain node:http over kept-alive connections, as a browser keeps them,
 * with as little client work per request as Node allows (fetch costs more), so the client is not
 * what limits the rate. Never throws for a status: the caller checks each step's own.
 */
export class LoadHttp {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(options: {
    origin: string;
    /** Connections kept open at once: the concurrency that will use it. */
    maxSockets: number;
  }) {
    const url = new URL(options.origin);
    this.host = url.hostname === "localhost" ? "127.0.0.1" : url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
  }

  send(options: {
    method: "GET" | "POST";
    path: string;
    headers: Record<string, string>;
    json?: unknown;
  }): Promise<LoadResponse> {
    const payload = options.json === undefined ? null : Buffer.from(JSON.stringify(options.json));
    const headers =
      payload === null
        ? options.headers
        : { ...options.headers, "content-type": "application/json", "content-length": String(payload.length) };
    return this.attempt({ ...options, headers, payload }).catch((error: unknown) => {
      // A kept-alive connection the server closed for idleness just as the request went out
      // (Node's documented race): the request never reached the server, so send it once more.
      if (error instanceof RetryOnFreshConnection) return this.attempt({ ...options, headers, payload });
      throw error;
    });
  }

  private attempt(options: {
    method: "GET" | "POST";
    path: string;
    headers: Record<string, string>;
    payload: Buffer | null;
  }): Promise<LoadResponse> {
    const { payload, headers } = options;
    let answered = false;
    return new Promise((resolve, reject) => {
      const outgoing = request(
        { agent: this.agent, host: this.host, port: this.port, method: options.method, path: options.path, headers },
        (response) => {
          answered = true;
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.once("error", reject);
          response.once("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              setCookie: response.headers["set-cookie"] ?? [],
            }),
          );
        },
      );
      outgoing.once("error", (error: NodeJS.ErrnoException) => {
        reject(
          outgoing.reusedSocket && !answered && error.code === "ECONNRESET" ? new RetryOnFreshConnection() : error,
        );
      });
      outgoing.end(payload ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

class RetryOnFreshConnection extends Error {}

/** The response's JSON, or an error naming the step, the status expected and what came instead. */
export function expectJson<T>(step: string, response: LoadResponse, status: number): T {
  if (response.status !== status) {
    throw new Error(`${step}: expected ${status}, got ${response.status}: ${response.body.slice(0, 300)}`);
  }
  return JSON.parse(response.body) as T;
}

/** "name=value" of the first Set-Cookie named `name`, as a browser would send it back; null if none. */
export function cookiePair(setCookie: readonly string[], name: string): string | null {
  for (const header of setCookie) {
    const pair = header.split(";", 1)[0]!.trim();
    if (pair.startsWith(`${name}=`) && pair.length > name.length + 1) return pair;
  }
  return null;
}
