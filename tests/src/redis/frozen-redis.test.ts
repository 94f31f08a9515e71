import { newDesktopKey } from "../support/desktop-key.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_PATHS, type Ack, type ErrorResponse, type LoginView } from "@countersign/shared";
import {
  createApp,
  createLogger,
  createMemoryDeployment,
  createRedisClient,
  cryptoRandom,
  isRedisUnavailable,
  loadConfig,
  systemClock,
} from "@countersign/server";
import { createLogin } from "../support/flows.js";
import { DESKTOP_UA, HttpClient } from "../support/http-client.js";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { DesktopSocket } from "../support/socket-client.js";

/**
 * A frozen Redis (SIGSTOP) keeps its connections open and answers nothing: unlike a stopped one,
 * no error ever arrives, so only a command timeout ends the wait. The server process runs with
 * the default REDIS_COMMAND_TIMEOUT_MS (1 s); these bounds leave room for a slow CI machine and
 * stay far below the hang they catch.
 */
const READY_BOUND_MS = 2_000;
const REQUEST_BOUND_MS = 2_500;
const RECOVERY_BOUND_MS = 5_000;
const ORIGIN = "http://countersign.test";
/** Any desktop cookie makes the handshake look the session up in the store. */
const UNKNOWN_DESKTOP_COOKIE = "cs-desktop=no-such-session";

let redis: RedisServer | undefined;
let server: ServerProcess | undefined;
const sockets: DesktopSocket[] = [];

/** Fails with `what` if `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, options: { ms: number; what: string }): Promise<T> {
  const signal = AbortSignal.timeout(options.ms);
  return new Promise<T>((resolve, reject) => {
    const onTimeout = (): void => reject(new Error(`${options.what}: no answer within ${options.ms} ms`));
    signal.addEventListener("abort", onTimeout, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onTimeout));
  });
}

/** fetch() that fails the test instead of waiting past `ms`. */
async function fetchWithin(
  path: string,
  options: { ms: number; method?: string; cookie?: string },
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(`${server!.url}${path}`, {
    method: options.method ?? "GET",
    headers: {
      origin: ORIGIN,
      "user-agent": DESKTOP_UA,
      "content-type": "application/json",
      ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
    },
    // A request the server would take: a new sign-in with the page's key.
    ...(options.method === "POST" ? { body: JSON.stringify({ desktopKey: (await newDesktopKey()).publicKey }) } : {}),
    signal: AbortSignal.timeout(options.ms),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? null : JSON.parse(text) };
}

async function waitUntilReady(): Promise<void> {
  const started = Date.now();
  for (;;) {
    const ready = await fetchWithin("/readyz", { ms: READY_BOUND_MS });
    if (ready.status === 200) return;
    if (Date.now() - started > RECOVERY_BOUND_MS) {
      throw new Error(`not ready ${RECOVERY_BOUND_MS} ms after Redis thawed:\n${server!.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function desktopSocket(options: { cookie?: string } = {}): DesktopSocket {
  const socket = new DesktopSocket(server!.url, { origin: ORIGIN, ...options });
  sockets.push(socket);
  return socket;
}

/** Resolves with "connected", or with the message the server refused the handshake with. */
function handshakeOutcome(socket: DesktopSocket): Promise<string> {
  return socket.connected().then(
    () => "connected",
    (error: Error) => error.message,
  );
}

describe.skipIf(!redisServerAvailable())("a frozen Redis (SIGSTOP)", () => {
  beforeAll(async () => {
    // Its own Redis: freezing the run's shared one would stall every other Redis suite.
    redis = await startRedisServer();
    server = await startServerProcess({
      env: { REDIS_URL: redis.url, PUBLIC_ORIGIN: ORIGIN, REDIS_KEY_PREFIX: "frozen:" },
    });
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
    // A failed assertion must not leave Redis stopped for the next test.
    redis?.thaw();
  });

  afterAll(async () => {
    if (server !== undefined) {
      server.kill("SIGKILL");
      await server.exited;
    }
    await redis?.stop();
  });

  it("answers /readyz 503 within about a second while frozen, and 200 again once Redis thaws", async () => {
    expect((await fetchWithin("/readyz", { ms: READY_BOUND_MS })).status).toBe(200);

    await redis!.freeze();
    const frozen = await fetchWithin("/readyz", { ms: READY_BOUND_MS });
    expect(frozen.status).toBe(503);
    expect(frozen.body).toEqual({ status: "store_unavailable" });
    // The process itself is fine: a restart policy must leave it alone.
    expect((await fetchWithin("/healthz", { ms: READY_BOUND_MS })).status).toBe(200);

    redis!.thaw();
    await waitUntilReady();
  });

  it("answers API requests 503 STORE_UNAVAILABLE with Retry-After while frozen, and serves them after", async () => {
    const desktop = new HttpClient(server!.url, { userAgent: DESKTOP_UA, origin: ORIGIN });
    await createLogin(desktop);

    await redis!.freeze();
    // A Lua script (the rate limiter's) and a plain GET (the session lookup), side by side.
    const [created, session] = await Promise.all([
      fetchWithin(API_PATHS.logins, { ms: REQUEST_BOUND_MS, method: "POST" }),
      fetchWithin(API_PATHS.session, { ms: REQUEST_BOUND_MS, cookie: UNKNOWN_DESKTOP_COOKIE }),
    ]);
    for (const response of [created, session]) {
      expect(response.status).toBe(503);
      expect((response.body as ErrorResponse).error.code).toBe("STORE_UNAVAILABLE");
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }

    redis!.thaw();
    await waitUntilReady();
    await createLogin(desktop);
    const afterThaw = await fetchWithin(API_PATHS.session, { ms: REQUEST_BOUND_MS, cookie: UNKNOWN_DESKTOP_COOKIE });
    expect((afterThaw.body as ErrorResponse).error.code).toBe("UNAUTHENTICATED");
  });

  it("refuses socket handshakes and acknowledges watches with STORE_UNAVAILABLE in bounded time while frozen", async () => {
    const login = await createLogin(new HttpClient(server!.url, { userAgent: DESKTOP_UA, origin: ORIGIN }));
    const watch = { id: login.login.id, desktopSecret: login.desktopSecret };
    const socket = desktopSocket();
    await socket.connected();
    expect(await socket.watch(watch)).toMatchObject({ ok: true });

    await redis!.freeze();
    const ack: Ack<{ login: LoginView }> = await within(socket.watch(watch), {
      ms: REQUEST_BOUND_MS,
      what: "login:watch acknowledgement",
    });
    expect(ack).toMatchObject({ ok: false, error: { code: "STORE_UNAVAILABLE" } });
    const refused = await within(handshakeOutcome(desktopSocket({ cookie: UNKNOWN_DESKTOP_COOKIE })), {
      ms: REQUEST_BOUND_MS,
      what: "socket handshake",
    });
    expect(refused).toBe("STORE_UNAVAILABLE");

    redis!.thaw();
    await waitUntilReady();
    expect(await socket.watch(watch)).toMatchObject({ ok: true, login: { id: login.login.id } });
    expect(await handshakeOutcome(desktopSocket({ cookie: UNKNOWN_DESKTOP_COOKIE }))).toBe("connected");
  });

  it("rejects a plain command, a pipeline and a Lua script with an error isRedisUnavailable recognises", async () => {
    const client = createRedisClient({ url: redis!.url, name: "frozen-test", commandTimeoutMs: 200 });
    client.on("error", () => undefined);
    try {
      await client.connect();
      client.defineCommand("readKey", { numberOfKeys: 1, lua: "return redis.call('GET', KEYS[1])" });
      const script = (): Promise<unknown> =>
        (client as unknown as { readKey(key: string): Promise<unknown> }).readKey("frozen:probe");
      expect(await script()).toBeNull();

      await redis!.freeze();
      const bound = { ms: REQUEST_BOUND_MS, what: "a command to the frozen Redis" };
      const errors = await within(
        Promise.all([
          client.ping().then(
            () => null,
            (error: unknown) => error,
          ),
          script().then(
            () => null,
            (error: unknown) => error,
          ),
          client
            .pipeline()
            .get("frozen:probe")
            .exec()
            .then((results) => results?.[0]?.[0] ?? null),
        ]),
        bound,
      );
      for (const error of errors) expect(isRedisUnavailable(error), String(error)).toBe(true);

      redis!.thaw();
      // The late replies to the timed-out commands must not be mistaken for answers to new ones.
      expect(await within(client.ping("after"), bound)).toBe("after");
      expect(await within(script(), bound)).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});

describe("/readyz with a store check that never settles", () => {
  it("answers 503 within about a second instead of waiting for the check", async () => {
    // Whatever a store's own deadline (none here), the probe gets its answer.
    const app = createApp({
      config: loadConfig({ PORT: "0", LOG_LEVEL: "silent" }),
      deployment: {
        ...createMemoryDeployment({ clock: systemClock, random: cryptoRandom }),
        checkReady: () => new Promise<void>(() => undefined),
      },
      clock: systemClock,
      random: cryptoRandom,
      logger: createLogger({ level: "silent" }),
    });
    try {
      const port = await app.listen();
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(READY_BOUND_MS) });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: "store_unavailable" });
    } finally {
      await app.close();
    }
  });
});
