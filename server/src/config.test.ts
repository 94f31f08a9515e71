import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { DEFAULT_RATE_LIMITS, rateLimitPolicies } from "./rate-limit/rate-limits.js";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("follows the port for the default origin, so PORT alone is enough to start elsewhere", () => {
    expect(loadConfig({ PORT: "3917" }).publicOrigin).toBe("http://localhost:3917");
    expect(loadConfig({ PORT: "3917", PUBLIC_ORIGIN: "https://login.example.com" }).publicOrigin).toBe(
      "https://login.example.com",
    );
  });

  it("starts with nothing set: localhost:3000, memory store, http cookies", () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: "127.0.0.1",
      publicOrigin: "http://localhost:3000",
      rpId: "localhost",
      rpName: "Countersign",
      redisUrl: null,
      redisClusterNodes: null,
      redisKeyPrefix: "countersign:",
      redisCommandTimeoutMs: 1_000,
      loginTtlSeconds: 120,
      sessionTtlSeconds: 604_800,
      approverSessionTtlSeconds: 7_776_000,
      pushLimitPer10Minutes: 3,
      pushPauseMinutes: 20,
      trustProxy: false,
      proximity: { farKm: 300, otherCountryIsFar: true },
      tls: null,
      logLevel: "info",
      secureCookies: false,
      oidcClients: [],
      oidcLoopbackNotifications: false,
      webPush: { vapidKeys: null, subject: "mailto:countersign@localhost", loopbackEndpoints: false },
      metrics: { token: null, port: null },
      benchRelaxedLimits: false,
    });
  });

  it("turns metrics on only with a long token or a port of their own, and never echoes the token", () => {
    const token = "a".repeat(24);
    expect(loadConfig({ METRICS_TOKEN: token }).metrics).toEqual({ token, port: null });
    expect(loadConfig({ PORT: "3000", METRICS_PORT: "9464" }).metrics).toEqual({ token: null, port: 9464 });
    const short = "short-secret-1234";
    const problems = problemsOf({ METRICS_TOKEN: short });
    expect(problems.join("\n")).toMatch(/METRICS_TOKEN: expects 24–256 printable characters/);
    expect(problems.join("\n")).not.toContain(short);
    expect(problemsOf({ METRICS_TOKEN: `${token} with spaces` })[0]).toMatch(/METRICS_TOKEN/);
    expect(problemsOf({ PORT: "3000", METRICS_PORT: "3000" })).toEqual([
      "METRICS_PORT: expects a port other than PORT (3000): it is a listener of its own",
    ]);
    expect(problemsOf({ METRICS_PORT: "0" })[0]).toMatch(/METRICS_PORT: expects 1–65535/);
  });

  it("lifts the rate limits only when BENCH_RELAXED_LIMITS=true, and never in production", () => {
    expect(rateLimitPolicies(loadConfig({}))).toEqual(rateLimitPolicies({ pushLimitPer10Minutes: 3 }));
    expect(loadConfig({ BENCH_RELAXED_LIMITS: "false" }).benchRelaxedLimits).toBe(false);
    const relaxed = rateLimitPolicies(loadConfig({ BENCH_RELAXED_LIMITS: "true", PUSH_LIMIT_PER_10_MINUTES: "5" }));
    expect(relaxed.createLogin.points).toBeGreaterThanOrEqual(1_000_000);
    expect(relaxed.pushToUser.points).toBeGreaterThanOrEqual(1_000_000);
    // The poll interval is protocol (RFC 8628 §3.5), not protection: the benchmark keeps it.
    expect(relaxed.pollAsyncGrant).toEqual(DEFAULT_RATE_LIMITS.pollAsyncGrant);
    expect(() => loadConfig({ BENCH_RELAXED_LIMITS: "yes" })).toThrow(/BENCH_RELAXED_LIMITS: expects true or false/);
    expect(() => loadConfig({ BENCH_RELAXED_LIMITS: "true", NODE_ENV: "production" })).toThrow(
      /BENCH_RELAXED_LIMITS: lifts the rate limits for `npm run bench` only; expects it unset when NODE_ENV=production/,
    );
  });

  it("reads Web Push settings: both VAPID keys or neither, a subject, loopback never in production", () => {
    const publicKey = "B".repeat(87);
    const privateKey = "p".repeat(43);
    expect(
      loadConfig({
        VAPID_PUBLIC_KEY: publicKey,
        VAPID_PRIVATE_KEY: privateKey,
        VAPID_SUBJECT: "mailto:ops@example.com",
      }).webPush,
    ).toEqual({ vapidKeys: { publicKey, privateKey }, subject: "mailto:ops@example.com", loopbackEndpoints: false });
    expect(loadConfig({ PUBLIC_ORIGIN: "https://login.example.com" }).webPush.subject).toBe(
      "https://login.example.com",
    );
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: publicKey })).toThrow(
      /VAPID_PUBLIC_KEY \/ VAPID_PRIVATE_KEY: expects both/,
    );
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: "short", VAPID_PRIVATE_KEY: privateKey })).toThrow(
      /VAPID_PUBLIC_KEY: expects a VAPID public key/,
    );
    expect(() => loadConfig({ VAPID_SUBJECT: "http://example.com" })).toThrow(/VAPID_SUBJECT: expects an https: URL/);
    expect(loadConfig({ WEB_PUSH_DEV_LOOPBACK: "true" }).webPush.loopbackEndpoints).toBe(true);
    expect(() => loadConfig({ WEB_PUSH_DEV_LOOPBACK: "true", NODE_ENV: "production" })).toThrow(
      /WEB_PUSH_DEV_LOOPBACK: is for development/,
    );
    expect(loadConfig({ APPROVER_SESSION_TTL_SECONDS: "3600" }).approverSessionTtlSeconds).toBe(3600);
  });

  it("derives the RP ID from the origin and accepts a parent domain", () => {
    expect(loadConfig({ PUBLIC_ORIGIN: "https://login.example.com" })).toMatchObject({
      rpId: "login.example.com",
      secureCookies: true,
    });
    expect(loadConfig({ PUBLIC_ORIGIN: "https://login.example.com", RP_ID: "example.com" }).rpId).toBe("example.com");
  });

  it("reads trust-proxy settings in the forms Express understands", () => {
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).toBe("loopback, 10.0.0.0/8");
  });

  it("reads when a computer counts as far from the phone", () => {
    expect(loadConfig({ PROXIMITY_FAR_KM: "1000", PROXIMITY_OTHER_COUNTRY_IS_FAR: "false" }).proximity).toEqual({
      farKm: 1000,
      otherCountryIsFar: false,
    });
    expect(loadConfig({ PROXIMITY_OTHER_COUNTRY_IS_FAR: "true" }).proximity.otherCountryIsFar).toBe(true);
  });

  it("reads the Redis command timeout, within its bounds", () => {
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: "250" }).redisCommandTimeoutMs).toBe(250);
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: "100" }).redisCommandTimeoutMs).toBe(100);
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: "60000" }).redisCommandTimeoutMs).toBe(60_000);
  });

  it("reads Redis Cluster seed nodes, host names and IP addresses alike", () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-b.internal:7001,[::1]:7002" })).toMatchObject({
      redisUrl: null,
      redisClusterNodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "redis-b.internal", port: 7001 },
        { host: "::1", port: 7002 },
      ],
    });
  });

  it.each([
    [{ PORT: "abc" }, "PORT: expects a whole number"],
    [{ PORT: "70000" }, "PORT: expects 0–65535"],
    [{ PUBLIC_ORIGIN: "localhost:3000" }, "PUBLIC_ORIGIN: expects"],
    [{ PUBLIC_ORIGIN: "https://x.test/app" }, "PUBLIC_ORIGIN: expects only scheme, host and port"],
    [{ PUBLIC_ORIGIN: "ftp://x.test" }, "PUBLIC_ORIGIN: expects only scheme"],
    [
      { RP_ID: "example.org" },
      'RP_ID: expects the host of PUBLIC_ORIGIN (localhost) or a parent domain of it, got "example.org"',
    ],
    [{ REDIS_URL: "http://redis" }, "REDIS_URL: expects a redis:// or rediss:// URL"],
    [{ REDIS_CLUSTER_NODES: "10.0.0.1" }, "REDIS_CLUSTER_NODES: expects comma-separated host:port pairs"],
    [{ REDIS_CLUSTER_NODES: "10.0.0.1:7000,,10.0.0.2:7000" }, "REDIS_CLUSTER_NODES: expects comma-separated host:port"],
    [{ REDIS_CLUSTER_NODES: "redis://10.0.0.1:7000" }, "REDIS_CLUSTER_NODES: expects comma-separated host:port"],
    [{ REDIS_CLUSTER_NODES: "10.0.0.1:70000" }, "REDIS_CLUSTER_NODES: expects comma-separated host:port pairs such as"],
    [
      { REDIS_URL: "redis://127.0.0.1:6379", REDIS_CLUSTER_NODES: "127.0.0.1:7000" },
      "REDIS_URL / REDIS_CLUSTER_NODES: expects one or the other",
    ],
    [{ REDIS_KEY_PREFIX: "has space" }, "REDIS_KEY_PREFIX: expects letters"],
    [{ REDIS_COMMAND_TIMEOUT_MS: "99" }, "REDIS_COMMAND_TIMEOUT_MS: expects 100–60000, got 99"],
    [{ REDIS_COMMAND_TIMEOUT_MS: "60001" }, "REDIS_COMMAND_TIMEOUT_MS: expects 100–60000, got 60001"],
    [{ REDIS_COMMAND_TIMEOUT_MS: "1.5s" }, "REDIS_COMMAND_TIMEOUT_MS: expects a whole number"],
    [{ PUSH_LIMIT_PER_10_MINUTES: "0" }, "PUSH_LIMIT_PER_10_MINUTES: expects 1–100, got 0"],
    [{ LOGIN_TTL_SECONDS: "5" }, "LOGIN_TTL_SECONDS: expects 10–3600, got 5"],
    [{ SESSION_TTL_SECONDS: "-1" }, "SESSION_TTL_SECONDS: expects a whole number"],
    [{ TRUST_PROXY: "yes please!" }, "TRUST_PROXY: expects true, false"],
    [{ PROXIMITY_FAR_KM: "5" }, "PROXIMITY_FAR_KM: expects 10–20000, got 5"],
    [{ PROXIMITY_FAR_KM: "300km" }, "PROXIMITY_FAR_KM: expects a whole number"],
    [{ PROXIMITY_OTHER_COUNTRY_IS_FAR: "yes" }, 'PROXIMITY_OTHER_COUNTRY_IS_FAR: expects true or false, got "yes"'],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ TLS_CERT_FILE: "/nope.pem" }, "TLS_CERT_FILE / TLS_KEY_FILE: expects both or neither"],
    [
      { TLS_CERT_FILE: "/nope.pem", TLS_KEY_FILE: "/nope.key", PUBLIC_ORIGIN: "https://x.test" },
      'TLS_CERT_FILE: no file at "/nope.pem"',
    ],
  ])("stops on %j with a message naming the variable", (env, message) => {
    const problems = problemsOf(env);
    expect(
      problems.some((problem) => problem.startsWith(message)),
      problems.join("\n"),
    ).toBe(true);
  });

  it("reports every bad variable at once", () => {
    expect(problemsOf({ PORT: "x", LOGIN_TTL_SECONDS: "y" })).toHaveLength(2);
  });

  describe("OIDC_CLIENTS_FILE", () => {
    let dir: string;
    const SECRET = "a-secret-of-at-least-32-characters-0123";
    const notes = {
      client_id: "notes",
      client_name: "Notes",
      client_secret: SECRET,
      redirect_uris: ["https://notes.example.com/callback"],
    };

    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), "countersign-config-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Writes `contents` (JSON unless a string) to a new file and returns its path. */
    function clientsFile(name: string, contents: unknown): string {
      const file = path.join(dir, name);
      writeFileSync(file, typeof contents === "string" ? contents : JSON.stringify(contents));
      return file;
    }

    it("reads the clients, with their defaults, in oidc-provider's shape", () => {
      const config = loadConfig({ OIDC_CLIENTS_FILE: clientsFile("valid.json", [notes]) });
      expect(config.oidcClients).toEqual([
        {
          ...notes,
          token_endpoint_auth_method: "client_secret_basic",
          grant_types: ["authorization_code"],
          response_types: ["code"],
          post_logout_redirect_uris: [],
          first_party: false,
        },
      ]);
    });

    it("has no clients when it is unset or blank", () => {
      expect(loadConfig({ OIDC_CLIENTS_FILE: " " }).oidcClients).toEqual([]);
    });

    it("stops when the file is missing or not JSON, without quoting its contents", () => {
      expect(problemsOf({ OIDC_CLIENTS_FILE: path.join(dir, "missing.json") })).toEqual([
        `OIDC_CLIENTS_FILE: no file at "${path.join(dir, "missing.json")}"`,
      ]);
      const broken = clientsFile("broken.json", `[{"client_secret": "${SECRET}",`);
      const problems = problemsOf({ OIDC_CLIENTS_FILE: broken });
      expect(problems).toEqual([`OIDC_CLIENTS_FILE: "${broken}" is not valid JSON`]);
      expect(problems.join("\n")).not.toContain(SECRET);
    });

    it("lists every bad client, and every other bad variable, at once", () => {
      const file = clientsFile("bad.json", [
        { ...notes, client_secret: "short" },
        {
          ...notes,
          client_id: "cli",
          token_endpoint_auth_method: "none",
          client_secret: undefined,
          grant_types: ["urn:openid:params:grant-type:ciba"],
        },
      ]);
      expect(problemsOf({ OIDC_CLIENTS_FILE: file, PORT: "x" })).toEqual([
        'PORT: expects a whole number, got "x"',
        'OIDC_CLIENTS_FILE: client "notes": client_secret: expects at least 32 characters, got 5',
        'OIDC_CLIENTS_FILE: client "cli": grant_types: a public client (token_endpoint_auth_method "none") may not use CIBA (urn:openid:params:grant-type:ciba); make it confidential, with a client_secret',
      ]);
    });
  });
});
