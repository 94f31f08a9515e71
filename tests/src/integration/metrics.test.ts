import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_PATHS, type ErrorResponse } from "@countersign/shared";
import { approveOpened, createLogin, enrolPhone, openFromQr, qrLinkOf } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { freePort } from "../support/server-process.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { RELAXED_RATE_LIMITS, startTestServer, type TestServer } from "../support/test-server.js";

const TOKEN = "metrics-token-0123456789abcdef";

/** The value of one sample line, `name{labels} value`, or undefined if there is none. */
function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? "";
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

async function scrape(url: string, authorization?: string): Promise<Response> {
  return fetch(url, authorization === undefined ? {} : { headers: { authorization } });
}

describe("/metrics with METRICS_TOKEN", () => {
  let server: TestServer;
  const sockets: DesktopSocket[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      env: { METRICS_TOKEN: TOKEN },
      // Two sign-ins may start from this address; the third is refused, for the counter.
      rateLimits: { ...RELAXED_RATE_LIMITS, createLogin: { points: 2, durationSeconds: 600 } },
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server.close();
  });

  it("refuses a scrape without the token or with a wrong one, as JSON 401", async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, "Basic abc"]) {
      const response = await scrape(`${server.origin}/metrics`, authorization);
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = (await response.json()) as ErrorResponse;
      expect(body.error.code).toBe("UNAUTHENTICATED");
    }
  });

  it("counts a real QR sign-in and a denial by method and outcome, labelled by route pattern, with no secret", async () => {
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const authenticator = new SoftAuthenticator({ origin: server.origin });
    await enrolPhone(phone, authenticator, { username: "metered", displayName: "Metered Person" });

    const login = await createLogin(desktop);
    const socket = new DesktopSocket(server.origin, { cookie: desktop.cookieHeader });
    sockets.push(socket);
    await socket.connected();
    expect((await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret })).ok).toBe(true);
    const opened = await openFromQr(phone, login);
    const approved = await approveOpened(phone, authenticator, opened);
    expect(approved.status).toBe(200);
    const redeemed = await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
    expect(redeemed.status).toBe(200);

    const denied = await createLogin(desktop);
    const openedToDeny = await openFromQr(phone, denied);
    const deny = await phone.post(API_PATHS.loginDeny(denied.login.id), {
      qrToken: openedToDeny.qrToken,
      reason: "not_me",
    });
    expect(deny.status).toBe(200);
    const refused = await desktop.post(API_PATHS.logins, {});
    expect(refused.status).toBe(429);

    const response = await scrape(`${server.origin}/metrics`, `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.text();

    expect(sample(body, "countersign_sign_ins_total", { method: "qr", outcome: "approved" })).toBe(1);
    expect(sample(body, "countersign_sign_ins_total", { method: "qr", outcome: "redeemed" })).toBe(1);
    expect(sample(body, "countersign_sign_ins_total", { method: "qr", outcome: "denied" })).toBe(1);
    expect(sample(body, "countersign_approval_to_desktop_seconds_count")).toBe(1);
    expect(sample(body, "countersign_rate_limited_total", { action: "createLogin" })).toBe(1);
    expect(sample(body, "countersign_open_sockets")).toBe(1);
    const approveRoute = { method: "POST", route: "/api/logins/:id/approve", status: "200" };
    expect(sample(body, "countersign_http_request_duration_seconds_count", approveRoute)).toBe(1);
    expect(
      sample(body, "countersign_http_request_duration_seconds_count", { route: "/api/logins", status: "429" }),
    ).toBe(1);
    expect(
      sample(body, "countersign_store_operation_duration_seconds_count", { operation: "getLoginRequest" }),
    ).toBeGreaterThan(0);
    expect(
      sample(body, "countersign_store_operation_duration_seconds_count", { operation: "redeemLoginRequest" }),
    ).toBe(1);
    expect(body).toContain("# TYPE countersign_store_errors_total counter");
    expect(body).toContain("# TYPE countersign_push_deliveries_total counter");
    // Node's own: heap and event loop lag.
    expect(sample(body, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(body).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");

    // The Grafana dashboard in deploy/ asks only for metrics that exist.
    const dashboard = readFileSync(new URL("../../../deploy/grafana-dashboard.json", import.meta.url), "utf8");
    const asked = new Set(dashboard.match(/\b(countersign|nodejs|process)_[a-z0-9_]+/g));
    expect(asked.size).toBeGreaterThan(8);
    for (const name of asked) {
      const family = name.replace(/_(bucket|count|sum)$/, "");
      expect(body, name).toMatch(new RegExp(`^# TYPE ${family} `, "m"));
    }

    // Labels are patterns: no request id (nor any other id) made its way into one.
    for (const id of [login.login.id, denied.login.id]) expect(body).not.toContain(id);
    const secrets = [
      TOKEN,
      login.desktopSecret,
      denied.desktopSecret,
      qrLinkOf(login).qrToken,
      opened.qrToken,
      openedToDeny.qrToken,
      login.userCode,
      login.userCode.replace("-", ""),
      "metered",
      "Metered Person",
      ...desktop.cookies.values(),
      ...phone.cookies.values(),
    ];
    for (const secret of secrets) expect(body).not.toContain(secret);
  });
});

describe("/metrics when off", () => {
  let server: TestServer;
  afterEach(async () => {
    await server.close();
  });

  it("is an ordinary JSON 404 without METRICS_TOKEN or METRICS_PORT, token or not", async () => {
    server = await startTestServer();
    for (const authorization of [undefined, `Bearer ${TOKEN}`]) {
      const response = await scrape(`${server.origin}/metrics`, authorization);
      expect(response.status).toBe(404);
      expect(((await response.json()) as ErrorResponse).error.code).toBe("NOT_FOUND");
    }
  });

  it("serves METRICS_PORT without a token, and only /metrics there; the app's port keeps a 404", async () => {
    const port = await freePort();
    server = await startTestServer({ env: { METRICS_PORT: String(port) } });
    const metricsUrl = `http://127.0.0.1:${port}`;
    const response = await scrape(`${metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain("# TYPE countersign_sign_ins_total counter");
    expect(body).toContain("# TYPE countersign_http_request_duration_seconds histogram");

    const elsewhere = await scrape(`${metricsUrl}/api/session`);
    expect(elsewhere.status).toBe(404);
    expect(((await elsewhere.json()) as ErrorResponse).error.code).toBe("NOT_FOUND");
    expect((await scrape(`${server.origin}/metrics`)).status).toBe(404);
  });
});
