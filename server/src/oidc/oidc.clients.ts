import { z } from "zod";

/**
 * The apps that may sign people in with Countersign (DESIGN §10): static clients from the file
 * OIDC_CLIENTS_FILE names, checked once at start-up. The file is a JSON array of OpenID Dynamic
 * Client Registration metadata, the names oidc-provider's `clients` option takes, narrowed to
 * what Countersign supports. oidc-provider checks a static client only when it is first used,
 * and accepts things we refuse (a public client using CIBA), so everything is checked here.
 *
 * The provider requires PKCE of every client (oidc.provider.ts); a public client has nothing
 * else to prove who it is.
 */

export const OIDC_GRANT_TYPES = [
  "authorization_code",
  "refresh_token",
  "urn:ietf:params:oauth:grant-type:device_code",
  "urn:openid:params:grant-type:ciba",
] as const;

export type OidcGrantType = (typeof OIDC_GRANT_TYPES)[number];

const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

/**
 * Metadata of ours that oidc-provider strips unless its configuration lists it in
 * `extraClientMetadata.properties`; then `client.metadata().first_party` reads it.
 */
export const OIDC_EXTRA_CLIENT_METADATA = ["first_party"] as const;

/** One client as oidc-provider's `clients` option takes it: every default filled in. */
export type OidcClient = {
  client_id: string;
  client_name: string;
  /** Only for a confidential client; at least 32 characters. */
  client_secret?: string;
  /** "none" for a public client (a native app, a single-page app, a TV): no secret, PKCE only. */
  token_endpoint_auth_method: "client_secret_basic" | "client_secret_post" | "none";
  grant_types: OidcGrantType[];
  /** ["code"] with the authorization_code grant, [] without it (a device or CIBA client). */
  response_types: "code"[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  logo_uri?: string;
  client_uri?: string;
  /** The operator's own app: signing in to it asks for no consent. */
  first_party: boolean;
  /** Set for a client with the CIBA grant ("poll" unless the file says "ping"), only then. */
  backchannel_token_delivery_mode?: "poll" | "ping";
  /** An https URL, in ping mode only. */
  backchannel_client_notification_endpoint?: string;
};

export type OidcClientsParse = { ok: true; clients: OidcClient[] } | { ok: false; problems: string[] };

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const MIN_SECRET_LENGTH = 32;

/**
 * Why `value` cannot be a redirect (or other) URL of a client, or null if it can: absolute, no
 * fragment, https; plain http only on this machine's loopback (native apps, development).
 */
function urlProblem(value: string, options: { loopbackHttp: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `expects an absolute URL, got "${value}"`;
  }
  if (value.includes("#")) return `expects no fragment (#…), got "${value}"`;
  if (url.protocol === "https:") return null;
  if (options.loopbackHttp && url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return options.loopbackHttp
    ? `expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "${value}"`
    : `expects an https URL, got "${value}"`;
}

const text = (expects: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? "is required" : `expects ${expects}`) });

const webUrl = text("a URL").superRefine((value, ctx) => {
  const problem = urlProblem(value, { loopbackHttp: true });
  if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
});

const list = <T extends z.ZodType>(item: T) => z.array(item, { error: "expects an array" });

const clientSchema = z.strictObject(
  {
    client_id: text("a string").regex(/^[\w.~-]{1,100}$/, "expects 1–100 letters, digits and . _ ~ - only"),
    client_name: text("a string")
      .trim()
      .min(1, "expects a name people recognise")
      .max(100, "expects 100 characters at most"),
    // Checked below, where we know whether the client is public; never echoed.
    client_secret: text("a string").optional(),
    token_endpoint_auth_method: z
      .enum(["client_secret_basic", "client_secret_post", "none"], {
        error: (issue) =>
          `expects "client_secret_basic", "client_secret_post" or "none", got ${JSON.stringify(issue.input)}`,
      })
      .optional(),
    redirect_uris: list(webUrl).optional(),
    post_logout_redirect_uris: list(webUrl).optional(),
    grant_types: list(
      z.enum(OIDC_GRANT_TYPES, {
        error: (issue) => `expects one of ${OIDC_GRANT_TYPES.join(", ")}, got ${JSON.stringify(issue.input)}`,
      }),
    )
      .min(1, "expects at least one grant")
      .optional(),
    response_types: list(z.literal("code", { error: 'expects only "code"' }))
      .max(1, 'expects ["code"] or []')
      .optional(),
    logo_uri: webUrl.optional(),
    client_uri: webUrl.optional(),
    first_party: z.boolean({ error: "expects true or false" }).optional(),
    backchannel_token_delivery_mode: z
      .enum(["poll", "ping"], { error: (issue) => `expects "poll" or "ping", got ${JSON.stringify(issue.input)}` })
      .optional(),
    // Checked below, with the delivery mode.
    backchannel_client_notification_endpoint: text("a URL").optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown field ${issue.keys.map((key) => `"${key}"`).join(", ")}`
        : issue.input === null || typeof issue.input !== "object" || Array.isArray(issue.input)
          ? "expects an object"
          : undefined,
  },
);

type ClientInput = z.infer<typeof clientSchema>;

/**
 * Checks the parsed contents of a clients file and fills in the defaults; on failure, every
 * problem in every client, each naming the client and the field.
 */
export function parseOidcClients(input: unknown): OidcClientsParse {
  if (!Array.isArray(input)) {
    return { ok: false, problems: [`expects a JSON array of clients, got ${describeJson(input)}`] };
  }
  const problems: string[] = [];
  const clients: OidcClient[] = [];
  const firstIndexOfId = new Map<string, number>();
  input.forEach((raw: unknown, index) => {
    const name = clientName(raw, index);
    const parsed = clientSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${name}: ${issue.path.length > 0 ? `${fieldOf(issue.path)}: ` : ""}${issue.message}`);
      }
      return;
    }
    const checked = checkClient(parsed.data);
    problems.push(...checked.problems.map((problem) => `${name}: ${problem}`));
    const earlier = firstIndexOfId.get(parsed.data.client_id);
    if (earlier === undefined) firstIndexOfId.set(parsed.data.client_id, index);
    else problems.push(`${name} (#${index + 1}): client_id: is already the id of client #${earlier + 1}`);
    if (checked.client !== null) clients.push(checked.client);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, clients };
}

/** The rules between fields, and the defaults; `problems` as "field: message". */
function checkClient(input: ClientInput): { client: OidcClient | null; problems: string[] } {
  const problems: string[] = [];
  const isPublic = input.token_endpoint_auth_method === "none";
  const grants = input.grant_types ?? ["authorization_code"];
  const usesCode = grants.includes("authorization_code");
  const usesCiba = grants.includes(CIBA_GRANT);

  if (isPublic && input.client_secret !== undefined) {
    problems.push(
      'client_secret: a public client (token_endpoint_auth_method "none") has no secret; remove one of the two',
    );
  } else if (!isPublic) {
    const secret = input.client_secret;
    if (secret === undefined) {
      problems.push(
        `client_secret: is required for a confidential client (at least ${MIN_SECRET_LENGTH} characters); ` +
          'a public client sets token_endpoint_auth_method to "none" instead',
      );
    } else if (secret.length < MIN_SECRET_LENGTH) {
      problems.push(`client_secret: expects at least ${MIN_SECRET_LENGTH} characters, got ${secret.length}`);
    } else if (!/^[\x21-\x7E]+$/.test(secret)) {
      // oidc-provider refuses anything else; the secret itself is never repeated in a message.
      problems.push("client_secret: expects printable ASCII characters only, without spaces");
    }
  }

  if (isPublic && usesCiba) {
    // oidc-provider would accept it; anyone could then start a backchannel sign-in as this app.
    problems.push(
      `grant_types: a public client (token_endpoint_auth_method "none") may not use CIBA (${CIBA_GRANT}); ` +
        "make it confidential, with a client_secret",
    );
  }
  if (grants.every((grant) => grant === "refresh_token")) {
    problems.push(
      "grant_types: refresh_token needs a grant that signs someone in (authorization_code, device_code or CIBA)",
    );
  }

  if (input.response_types !== undefined && input.response_types.length > 0 !== usesCode) {
    problems.push(
      usesCode
        ? 'response_types: expects ["code"] with the authorization_code grant'
        : "response_types: expects [] (or no response_types) without the authorization_code grant",
    );
  }
  const redirectUris = input.redirect_uris ?? [];
  if (usesCode && redirectUris.length === 0) {
    problems.push("redirect_uris: expects at least one URL for the authorization_code grant");
  }

  const mode = input.backchannel_token_delivery_mode;
  const endpoint = input.backchannel_client_notification_endpoint;
  if (!usesCiba) {
    for (const [field, value] of [
      ["backchannel_token_delivery_mode", mode],
      ["backchannel_client_notification_endpoint", endpoint],
    ] as const) {
      if (value !== undefined) problems.push(`${field}: only for a client with the CIBA grant (${CIBA_GRANT})`);
    }
  } else if (mode === "ping") {
    const problem =
      endpoint === undefined
        ? 'is required when backchannel_token_delivery_mode is "ping"'
        : urlProblem(endpoint, { loopbackHttp: false });
    if (problem !== null) problems.push(`backchannel_client_notification_endpoint: ${problem}`);
  } else if (endpoint !== undefined) {
    problems.push('backchannel_client_notification_endpoint: only used when backchannel_token_delivery_mode is "ping"');
  }

  if (problems.length > 0) return { client: null, problems };
  const client: OidcClient = {
    client_id: input.client_id,
    client_name: input.client_name,
    token_endpoint_auth_method: isPublic ? "none" : (input.token_endpoint_auth_method ?? "client_secret_basic"),
    grant_types: [...new Set(grants)],
    response_types: usesCode ? ["code"] : [],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
    first_party: input.first_party ?? false,
  };
  if (input.client_secret !== undefined) client.client_secret = input.client_secret;
  if (input.logo_uri !== undefined) client.logo_uri = input.logo_uri;
  if (input.client_uri !== undefined) client.client_uri = input.client_uri;
  if (usesCiba) client.backchannel_token_delivery_mode = mode ?? "poll";
  if (endpoint !== undefined) client.backchannel_client_notification_endpoint = endpoint;
  return { client, problems };
}

/** `client "notes"`, or `client #2` when it has no usable id. */
function clientName(raw: unknown, index: number): string {
  const id = typeof raw === "object" && raw !== null ? (raw as { client_id?: unknown }).client_id : undefined;
  return typeof id === "string" && id !== "" ? `client ${JSON.stringify(id)}` : `client #${index + 1}`;
}

/** ["redirect_uris", 1] → "redirect_uris[1]". */
function fieldOf(path: PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index > 0 ? "." : ""}${String(part)}`))
    .join("");
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : typeof value;
}
