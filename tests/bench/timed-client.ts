import { Agent, request } from "node:http";

export interface TimedResponse {
  status: number;
  /** Body length in bytes. */
  bytes: number;
  body: string;
  /** From just before the request is written to the last byte of the response, client side. */
  elapsedMs: number;
}

/**
 * JSON POSTs over one kept-alive connection, timed with the monotonic high-resolution clock.
 * Plain node:http rather than fetch: less client work per request, so less client noise in
 * what is measured, and exactly one socket, so no request pays for a new connection.
 */
export class TimedClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly target: URL;

  constructor(
    baseUrl: string,
    private readonly headers: Record<string, string>,
  ) {
    this.target = new URL(baseUrl);
  }

  post(path: string, json: unknown): Promise<TimedResponse> {
    const payload = Buffer.from(JSON.stringify(json));
    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const outgoing = request(
        {
          agent: this.agent,
          host: this.target.hostname === "localhost" ? "127.0.0.1" : this.target.hostname,
          port: this.target.port,
          method: "POST",
          path,
          headers: {
            ...this.headers,
            "content-type": "application/json",
            "content-length": String(payload.length),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.once("error", reject);
          response.once("end", () => {
            const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
            const body = Buffer.concat(chunks);
            resolve({ status: response.statusCode ?? 0, bytes: body.length, body: body.toString(), elapsedMs });
          });
        },
      );
      outgoing.once("error", reject);
      outgoing.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
