import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { z } from "zod";
import type { Deployment } from "../deployment.js";
import { randomToken, type Random } from "../random.js";

/**
 * The OpenID Provider's secrets (DESIGN §10), the same on every process: the private keys that
 * sign ID tokens, published at the provider's jwks_uri, and the secrets that sign its cookies.
 * The first process to start generates them and keeps them in the deployment's state
 * (claimShared, in Redis `<prefix>shared:oidc-signing-keys` and `…:oidc-cookie-keys`); every
 * other process, and every later start, reads the same. With the memory store they live as
 * long as the process, like everything else in it.
 *
 * Rotation (README, "Sign in to your own apps"): stop every process, delete both keys from
 * Redis, start again; the first process generates new ones. Tokens signed with the old keys
 * then fail verification wherever an app checks them against the new jwks_uri: ID tokens are
 * short-lived and checked once, at sign-in, so a sign-in in flight at that moment must be
 * started again, and an old ID token no longer serves as `id_token_hint` at logout. Access and
 * refresh tokens are opaque records in the store, not signed, and survive. New cookie secrets
 * end the provider's own cookies: an app's next sign-in goes through the Countersign page
 * again. Restarting only some processes would leave two sets of keys in service: restart all.
 */

/** Where the keys are kept (Deployment.claimShared). */
export const OIDC_SIGNING_KEYS_NAME = "oidc-signing-keys";
export const OIDC_COOKIE_KEYS_NAME = "oidc-cookie-keys";

/**
 * ES256 for every client that can verify it; RS256 because it is the default ID token algorithm
 * of OpenID Connect (and oidc-provider's), which some client libraries still assume.
 */
const SIGNING_ALGORITHMS = ["ES256", "RS256"] as const;
const COOKIE_SECRET_BYTES = 32;

/** What these functions need of a deployment (STYLE: the consumer owns the interface). */
export type SharedState = Pick<Deployment, "claimShared">;

const signingKeySchema = z.looseObject({
  kty: z.enum(["EC", "RSA"]),
  kid: z.string().min(1),
  use: z.literal("sig"),
  alg: z.enum(SIGNING_ALGORITHMS),
  // A private key: without it the provider could publish but not sign.
  d: z.string().min(1),
});
const signingKeysSchema = z
  .object({ keys: z.array(signingKeySchema).min(1) })
  .refine((set) => SIGNING_ALGORITHMS.every((alg) => set.keys.some((key) => key.alg === alg)), {
    message: `expects a key for each of ${SIGNING_ALGORITHMS.join(", ")}`,
  });
const cookieKeysSchema = z.object({ keys: z.array(z.string().min(32)).min(1) });

/**
 * The provider's signing keys, for its `jwks` option: private JWKs with `kid` (their RFC 7638
 * thumbprint), `use: "sig"` and `alg`, ES256 first. Generates them if the deployment has none
 * (an RSA key takes a noticeable fraction of a second; a process that finds keys makes none).
 */
export async function loadSigningKeys(deployment: SharedState): Promise<{ keys: JWK[] }> {
  const kept = await deployment.claimShared(OIDC_SIGNING_KEYS_NAME, async () =>
    JSON.stringify({ keys: await Promise.all(SIGNING_ALGORITHMS.map(generateSigningKey)) }),
  );
  const keys = parseKept({ what: "OIDC signing keys", schema: signingKeysSchema, kept }).keys;
  // A key jose cannot import would only fail at the first sign-in: fail at start-up instead.
  for (const key of keys) {
    await importJWK(key, key.alg).catch((error: unknown) => {
      throw new Error(`Corrupt OIDC signing keys in the store: key ${key.kid} (${key.alg}) cannot be used`, {
        cause: error,
      });
    });
  }
  return { keys };
}

/**
 * Secrets for the provider's `cookies.keys`: it signs with the first and accepts any. Generates
 * one if the deployment has none.
 */
export async function loadCookieKeys(deployment: SharedState, random: Random): Promise<string[]> {
  const kept = await deployment.claimShared(OIDC_COOKIE_KEYS_NAME, () =>
    Promise.resolve(JSON.stringify({ keys: [randomToken(random, COOKIE_SECRET_BYTES)] })),
  );
  return parseKept({ what: "OIDC cookie keys", schema: cookieKeysSchema, kept }).keys;
}

async function generateSigningKey(alg: (typeof SIGNING_ALGORITHMS)[number]): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), use: "sig", alg };
}

/** JSON read back from the store, checked (STYLE §4); never quoted in the error: it is secret. */
function parseKept<T>(options: { what: string; schema: z.ZodType<T>; kept: string }): T {
  let json: unknown;
  try {
    json = JSON.parse(options.kept);
  } catch {
    throw new Error(`Corrupt ${options.what} in the store: not JSON`);
  }
  const parsed = options.schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `Corrupt ${options.what} in the store at ${issue?.path.join(".") || "top level"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
