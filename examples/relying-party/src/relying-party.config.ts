import { z } from "zod";

/** Hosts where plain http is acceptable: this machine, for trying things out. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** What the example app needs to know; `main.ts` reads it from the environment. */
export interface RelyingPartyConfig {
  /** Countersign's issuer, `<PUBLIC_ORIGIN>/oidc`; its discovery document is under it. */
  issuer: string;
  clientId: string;
  /**
   * The client secret of a confidential client (client_secret_basic), or null for a public client
   * that proves nothing but PKCE (token_endpoint_auth_method "none").
   */
  clientSecret: string | null;
  /** Where this app is reached, scheme, host and port only; the redirect URI is `<publicUrl>/callback`. */
  publicUrl: string;
  port: number;
  host: string;
}

/**
 * Why `value` cannot be the issuer or this app's public URL, or null if it can: http or https,
 * and plain http only on this machine's loopback (Countersign refuses anything else for a
 * redirect URI, and a token over plain http could be read on the way).
 */
export function webUrlProblem(value: string, options: { originOnly: boolean }): string | null {
  const example = options.originOnly ? "http://localhost:4000" : "https://login.example.com/oidc";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `expects an absolute URL such as ${example}, got "${value}"`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `expects http or https, got "${value}"`;
  if (url.search !== "" || url.hash !== "" || value.includes("#")) {
    return `expects no query (?…) or fragment (#…), got "${value}"`;
  }
  if (options.originOnly && url.origin !== value.replace(/\/$/, "")) {
    return `expects only scheme, host and port (no path), got "${value}"`;
  }
  if (url.protocol === "http:" && !isLoopback(url)) {
    return `expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "${value}"`;
  }
  return null;
}

/** Whether the URL points at this machine, where plain http is allowed. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const webUrl = (options: { originOnly: boolean }) =>
  z.string().superRefine((value, ctx) => {
    const problem = webUrlProblem(value, options);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });

const envSchema = z.object({
  COUNTERSIGN_ISSUER: optionalText
    .transform((value) => value ?? "http://localhost:3000/oidc")
    .pipe(webUrl({ originOnly: false })),
  CLIENT_ID: optionalText
    .transform((value) => value ?? "example")
    .superRefine((value, ctx) => {
      if (!/^[\w.~-]{1,100}$/.test(value)) {
        ctx.addIssue({ code: "custom", message: `expects 1–100 letters, digits and . _ ~ - only, got "${value}"` });
      }
    }),
  // Never echoed in a message: it is a secret.
  CLIENT_SECRET: optionalText.pipe(
    z
      .string()
      .min(32, "expects at least 32 characters (as Countersign's clients file does), or leave it unset")
      .regex(/^[\x21-\x7E]+$/, "expects printable ASCII characters only, without spaces")
      .optional(),
  ),
  PORT: optionalText.transform((value, ctx) => {
    if (value === undefined) return 4000;
    const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
    if (port >= 1 && port <= 65535) return port;
    ctx.addIssue({ code: "custom", message: `expects a port number 1–65535, got "${value}"` });
    return z.NEVER;
  }),
  HOST: optionalText.transform((value) => value ?? "127.0.0.1"),
  PUBLIC_URL: optionalText.pipe(webUrl({ originOnly: true }).optional()),
});

export class RelyingPartyConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "RelyingPartyConfigError";
    this.problems = problems;
  }
}

/**
 * Reads the example's settings from the environment: COUNTERSIGN_ISSUER (default
 * http://localhost:3000/oidc), CLIENT_ID (default "example"), CLIENT_SECRET (unset: a public
 * client), PORT (default 4000), HOST (default 127.0.0.1) and PUBLIC_URL (default
 * http://localhost:<PORT>). Throws RelyingPartyConfigError with one line per bad variable.
 */
export function loadRelyingPartyConfig(env: Record<string, string | undefined>): RelyingPartyConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new RelyingPartyConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const values = parsed.data;
  return {
    issuer: values.COUNTERSIGN_ISSUER,
    clientId: values.CLIENT_ID,
    clientSecret: values.CLIENT_SECRET ?? null,
    port: values.PORT,
    host: values.HOST,
    publicUrl: new URL(values.PUBLIC_URL ?? `http://localhost:${values.PORT}`).origin,
  };
}
