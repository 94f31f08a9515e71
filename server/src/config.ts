import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import {
  DEFAULT_APPROVER_SESSION_TTL_SECONDS,
  DEFAULT_LOGIN_TTL_SECONDS,
  DEFAULT_SESSION_TTL_SECONDS,
  PUSH_PAUSE_MS,
} from "@countersign/shared";
import type { ProximityPolicy } from "./context/proximity.js";
import { parseOidcClients, type OidcClient, type OidcClientsParse } from "./oidc/oidc.clients.js";
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from "./redis/redis.client.js";

/**
 * Configuration from the environment (DESIGN §7), validated once at start-up. A bad value stops
 * the process with one line per problem, naming the variable and what it expects.
 */
export interface Config {
  port: number;
  host: string;
  publicOrigin: string;
  rpId: string;
  rpName: string;
  redisUrl: string | null;
  /** Seed nodes of a Redis Cluster to keep everything in instead; never set with redisUrl. */
  redisClusterNodes: { host: string; port: number }[] | null;
  /** Every Redis key starts with this, so one Redis can serve several deployments. */
  redisKeyPrefix: string;
  /** How long a Redis command may take before the request fails with 503 STORE_UNAVAILABLE. */
  redisCommandTimeoutMs: number;
  loginTtlSeconds: number;
  /** A computer's session: fixed from sign-in. */
  sessionTtlSeconds: number;
  /** A phone's own session: this long after its last use (sliding). */
  approverSessionTtlSeconds: number;
  /** How many push requests may reach one person's phones in 10 minutes. */
  pushLimitPer10Minutes: number;
  /** How long pushes to a person pause after they report "This wasn't me". */
  pushPauseMinutes: number;
  trustProxy: boolean | number | string;
  /** When the computer counts as far from the phone approving it (PROXIMITY_*). */
  proximity: ProximityPolicy;
  tls: { certFile: string; keyFile: string } | null;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Whether cookies must be Secure (and __Host- prefixed): true when the origin is https. */
  secureCookies: boolean;
  /** The apps that may sign people in with Countersign (OIDC_CLIENTS_FILE); none without it. */
  oidcClients: OidcClient[];
  /**
   * Development only (OIDC_DEV_LOOPBACK_NOTIFICATIONS): CIBA pings may go to an https endpoint on
   * this machine's loopback, self-signed, which the provider's SSRF guard would otherwise refuse.
   */
  oidcLoopbackNotifications: boolean;
  /** Web Push (approver notifications when the app is closed). */
  webPush: WebPushConfig;
  /**
   * Prometheus metrics: off unless one is set. `token` (METRICS_TOKEN) serves GET /metrics on
   * the app's own port to a bearer of it; `port` (METRICS_PORT) serves it without a token on a
   * listener of its own, on HOST, for a network only the monitoring can reach.
   */
  metrics: { token: string | null; port: number | null };
  /**
   * Benchmark only (BENCH_RELAXED_LIMITS): per-IP and per-person limits so high that one load
   * generator on loopback is never refused. Never on by default; refused in production.
   */
  benchRelaxedLimits: boolean;
}

export interface WebPushConfig {
  /** VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY; null: made on first start and kept in the store. */
  vapidKeys: { publicKey: string; privateKey: string } | null;
  /** Who runs this server, for push services (an https: URL or a mailto: address). */
  subject: string;
  /**
   * Development and tests only (WEB_PUSH_DEV_LOOPBACK): subscriptions may point at https on this
   * machine's loopback, self-signed, which is otherwise refused as a request forgery risk.
   */
  loopbackEndpoints: boolean;
}

const integer = (options: { min: number; max: number; fallback: number }) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return options.fallback;
      if (!/^\d+$/.test(value)) {
        ctx.addIssue({ code: "custom", message: `expects a whole number, got "${value}"` });
        return z.NEVER;
      }
      const number = Number(value);
      if (number < options.min || number > options.max) {
        ctx.addIssue({ code: "custom", message: `expects ${options.min}–${options.max}, got ${number}` });
        return z.NEVER;
      }
      return number;
    });

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const envSchema = z.object({
  PORT: integer({ min: 0, max: 65535, fallback: 3000 }),
  HOST: optionalText.transform((value) => value ?? "127.0.0.1"),
  // Unset: http://localhost:<PORT> (loadConfig), so starting on another port just works.
  PUBLIC_ORIGIN: optionalText.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const raw = value;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.addIssue({ code: "custom", message: `expects an origin such as https://login.example.com, got "${raw}"` });
      return z.NEVER;
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== raw.replace(/\/$/, "")) {
      ctx.addIssue({
        code: "custom",
        message: `expects only scheme, host and port (http or https, no path), got "${raw}"`,
      });
      return z.NEVER;
    }
    return url.origin;
  }),
  RP_ID: optionalText,
  RP_NAME: optionalText.transform((value) => value ?? "Countersign"),
  REDIS_URL: optionalText.refine((value) => value === undefined || /^rediss?:\/\//.test(value), {
    message: "expects a redis:// or rediss:// URL",
  }),
  REDIS_CLUSTER_NODES: optionalText.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const nodes: { host: string; port: number }[] = [];
    for (const entry of value.split(",").map((part) => part.trim())) {
      const node = clusterNodeFrom(entry);
      if (node === null) {
        ctx.addIssue({
          code: "custom",
          message: `expects comma-separated host:port pairs such as "10.0.0.1:7000,10.0.0.2:7000", got "${entry}"`,
        });
        return z.NEVER;
      }
      nodes.push(node);
    }
    return nodes;
  }),
  REDIS_KEY_PREFIX: optionalText.pipe(
    z
      .string()
      .max(64)
      .regex(/^[\w.:-]+$/, "expects letters, digits and . _ : - only, such as countersign:")
      .optional(),
  ),
  // Under 100 ms a busy but healthy Redis would fail requests; past a minute nobody is waiting.
  REDIS_COMMAND_TIMEOUT_MS: integer({ min: 100, max: 60_000, fallback: DEFAULT_REDIS_COMMAND_TIMEOUT_MS }),
  LOGIN_TTL_SECONDS: integer({ min: 10, max: 3600, fallback: DEFAULT_LOGIN_TTL_SECONDS }),
  SESSION_TTL_SECONDS: integer({ min: 60, max: 366 * 24 * 3600, fallback: DEFAULT_SESSION_TTL_SECONDS }),
  APPROVER_SESSION_TTL_SECONDS: integer({
    min: 60,
    max: 2 * 366 * 24 * 3600,
    fallback: DEFAULT_APPROVER_SESSION_TTL_SECONDS,
  }),
  PUSH_LIMIT_PER_10_MINUTES: integer({ min: 1, max: 100, fallback: 3 }),
  PUSH_PAUSE_MINUTES: integer({ min: 0, max: 24 * 60, fallback: PUSH_PAUSE_MS / 60_000 }),
  TRUST_PROXY: optionalText.transform((value, ctx) => {
    if (value === undefined || value === "false") return false;
    if (value === "true") return true;
    if (/^\d+$/.test(value)) return Number(value);
    // Express also takes names (loopback, uniquelocal) and comma-separated addresses or subnets.
    if (/^[\w.:/, -]+$/.test(value)) return value;
    ctx.addIssue({
      code: "custom",
      message: `expects true, false, a hop count, or addresses/subnets such as "loopback, 10.0.0.0/8", got "${value}"`,
    });
    return z.NEVER;
  }),
  // Under 10 km a city's own suburbs would be "far"; past half the Earth's circumference nothing is.
  PROXIMITY_FAR_KM: integer({ min: 10, max: 20_000, fallback: 300 }),
  PROXIMITY_OTHER_COUNTRY_IS_FAR: optionalText.pipe(
    z.enum(["true", "false"], { error: (issue) => `expects true or false, got "${String(issue.input)}"` }).optional(),
  ),
  TLS_CERT_FILE: optionalText,
  TLS_KEY_FILE: optionalText,
  LOG_LEVEL: optionalText.pipe(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional()),
  OIDC_CLIENTS_FILE: optionalText,
  OIDC_DEV_LOOPBACK_NOTIFICATIONS: optionalText.pipe(
    z.enum(["true", "false"], { error: (issue) => `expects true or false, got "${String(issue.input)}"` }).optional(),
  ),
  // An uncompressed P-256 point (65 bytes) and a private scalar (32 bytes), base64url, as
  // `npx web-push generate-vapid-keys` prints them.
  VAPID_PUBLIC_KEY: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{87}$/, "expects a VAPID public key: 87 base64url characters (65 bytes)")
      .optional(),
  ),
  VAPID_PRIVATE_KEY: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, "expects a VAPID private key: 43 base64url characters (32 bytes)")
      .optional(),
  ),
  VAPID_SUBJECT: optionalText.pipe(
    z
      .string()
      .regex(/^(https:\/\/[^\s]+|mailto:[^\s@]+@[^\s@]+)$/, "expects an https: URL or a mailto: address")
      .optional(),
  ),
  WEB_PUSH_DEV_LOOPBACK: optionalText.pipe(
    z.enum(["true", "false"], { error: (issue) => `expects true or false, got "${String(issue.input)}"` }).optional(),
  ),
  BENCH_RELAXED_LIMITS: optionalText.pipe(
    z.enum(["true", "false"], { error: (issue) => `expects true or false, got "${String(issue.input)}"` }).optional(),
  ),
  // Long enough not to be guessed; printable ASCII without spaces, as an HTTP header carries it.
  METRICS_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(
        /^[\x21-\x7e]{24,256}$/,
        "expects 24–256 printable characters without spaces, such as `openssl rand -hex 24`",
      )
      .optional(),
  ),
  // Unset (0): no listener of its own.
  METRICS_PORT: integer({ min: 1, max: 65535, fallback: 0 }),
  NODE_ENV: optionalText,
});

/** OIDC_CLIENTS_FILE's clients (none if unset), or every reason they cannot be used. */
function readOidcClients(env: Record<string, string | undefined>): { clients: OidcClient[]; problems: string[] } {
  const file = env.OIDC_CLIENTS_FILE?.trim();
  if (file === undefined || file === "") return { clients: [], problems: [] };
  const parsed = readOidcClientsFile(file);
  return parsed.ok
    ? { clients: parsed.clients, problems: [] }
    : { clients: [], problems: parsed.problems.map((problem) => `OIDC_CLIENTS_FILE: ${problem}`) };
}

/** The clients in a JSON file (oidc/oidc.clients.ts), or every reason they cannot be used. */
function readOidcClientsFile(file: string): OidcClientsParse {
  let contents: string;
  try {
    contents = readFileSync(file, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : String(error);
    return { ok: false, problems: [code === "ENOENT" ? `no file at "${file}"` : `cannot read "${file}" (${code})`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(contents);
  } catch {
    // Not the parser's message: it quotes the text around the error, which may be a secret.
    return { ok: false, problems: [`"${file}" is not valid JSON`] };
  }
  return parseOidcClients(json);
}

/** "host:port", "[ipv6]:port"; null if it is neither or the port is out of range. */
function clusterNodeFrom(entry: string): { host: string; port: number } | null {
  const match = /^(?:\[([\da-fA-F:.]+)\]|([\w.-]+)):(\d{1,5})$/.exec(entry);
  if (match === null) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (match[1] ?? match[2])!, port };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Reads and checks the configuration; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  // Read even when other variables are wrong, so one start-up lists every mistake.
  const clients = readOidcClients(env);
  if (!parsed.success) {
    throw new ConfigError([
      ...parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
      ...clients.problems,
    ]);
  }
  const values = parsed.data;
  const problems: string[] = [];
  const publicOrigin = values.PUBLIC_ORIGIN ?? `http://localhost:${values.PORT}`;
  const originHost = new URL(publicOrigin).hostname;
  const rpId = values.RP_ID ?? originHost;
  // WebAuthn only lets an origin use its own host or a registrable suffix of it as the RP ID.
  if (rpId !== originHost && !originHost.endsWith(`.${rpId}`)) {
    problems.push(`RP_ID: expects the host of PUBLIC_ORIGIN (${originHost}) or a parent domain of it, got "${rpId}"`);
  }
  if (values.REDIS_URL !== undefined && values.REDIS_CLUSTER_NODES !== undefined) {
    problems.push(
      "REDIS_URL / REDIS_CLUSTER_NODES: expects one or the other (one Redis, or a Redis Cluster), not both",
    );
  }
  if ((values.TLS_CERT_FILE === undefined) !== (values.TLS_KEY_FILE === undefined)) {
    problems.push("TLS_CERT_FILE / TLS_KEY_FILE: expects both or neither");
  }
  for (const [name, file] of [
    ["TLS_CERT_FILE", values.TLS_CERT_FILE],
    ["TLS_KEY_FILE", values.TLS_KEY_FILE],
  ] as const) {
    if (file !== undefined && !existsSync(file)) problems.push(`${name}: no file at "${file}"`);
  }
  const secure = publicOrigin.startsWith("https:");
  if (values.TLS_CERT_FILE !== undefined && !secure) {
    problems.push("PUBLIC_ORIGIN: expects an https:// origin when TLS_CERT_FILE is set");
  }
  if ((values.VAPID_PUBLIC_KEY === undefined) !== (values.VAPID_PRIVATE_KEY === undefined)) {
    problems.push("VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY: expects both or neither");
  }
  if (values.WEB_PUSH_DEV_LOOPBACK === "true" && values.NODE_ENV === "production") {
    problems.push("WEB_PUSH_DEV_LOOPBACK: is for development and tests; expects it unset when NODE_ENV=production");
  }
  // Without its limits a public server would store challenges and requests for anyone, unbounded.
  if (values.BENCH_RELAXED_LIMITS === "true" && values.NODE_ENV === "production") {
    problems.push(
      "BENCH_RELAXED_LIMITS: lifts the rate limits for `npm run bench` only; expects it unset when NODE_ENV=production",
    );
  }
  if (values.METRICS_PORT !== 0 && values.METRICS_PORT === values.PORT) {
    problems.push(`METRICS_PORT: expects a port other than PORT (${values.PORT}): it is a listener of its own`);
  }
  problems.push(...clients.problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: values.PORT,
    host: values.HOST,
    publicOrigin,
    rpId,
    rpName: values.RP_NAME,
    redisUrl: values.REDIS_URL ?? null,
    redisClusterNodes: values.REDIS_CLUSTER_NODES ?? null,
    redisKeyPrefix: values.REDIS_KEY_PREFIX ?? "countersign:",
    redisCommandTimeoutMs: values.REDIS_COMMAND_TIMEOUT_MS,
    loginTtlSeconds: values.LOGIN_TTL_SECONDS,
    sessionTtlSeconds: values.SESSION_TTL_SECONDS,
    approverSessionTtlSeconds: values.APPROVER_SESSION_TTL_SECONDS,
    pushLimitPer10Minutes: values.PUSH_LIMIT_PER_10_MINUTES,
    pushPauseMinutes: values.PUSH_PAUSE_MINUTES,
    trustProxy: values.TRUST_PROXY,
    proximity: {
      farKm: values.PROXIMITY_FAR_KM,
      otherCountryIsFar: values.PROXIMITY_OTHER_COUNTRY_IS_FAR !== "false",
    },
    tls:
      values.TLS_CERT_FILE !== undefined && values.TLS_KEY_FILE !== undefined
        ? { certFile: values.TLS_CERT_FILE, keyFile: values.TLS_KEY_FILE }
        : null,
    logLevel: values.LOG_LEVEL ?? "info",
    secureCookies: secure,
    oidcClients: clients.clients,
    oidcLoopbackNotifications: values.OIDC_DEV_LOOPBACK_NOTIFICATIONS === "true",
    webPush: {
      vapidKeys:
        values.VAPID_PUBLIC_KEY !== undefined && values.VAPID_PRIVATE_KEY !== undefined
          ? { publicKey: values.VAPID_PUBLIC_KEY, privateKey: values.VAPID_PRIVATE_KEY }
          : null,
      // Push services want to know whom to contact; an https origin says it, else a local address.
      subject: values.VAPID_SUBJECT ?? (secure ? publicOrigin : `mailto:countersign@${originHost}`),
      loopbackEndpoints: values.WEB_PUSH_DEV_LOOPBACK === "true",
    },
    metrics: { token: values.METRICS_TOKEN ?? null, port: values.METRICS_PORT === 0 ? null : values.METRICS_PORT },
    benchRelaxedLimits: values.BENCH_RELAXED_LIMITS === "true",
  };
}
