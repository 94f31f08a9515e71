import { calculateJwkThumbprint, compactVerify, CompactSign, importJWK, type JWK } from "jose";
import type { JWK as ProviderJwk } from "oidc-provider";
import { beforeAll, describe, expect, it } from "vitest";
import { createFakeClock } from "../testing/fake-clock.js";
import { cryptoRandom } from "../random.js";
import { createMemoryDeployment } from "../store/memory.deployment.js";
import {
  loadCookieKeys,
  loadSigningKeys,
  OIDC_COOKIE_KEYS_NAME,
  OIDC_SIGNING_KEYS_NAME,
  type SharedState,
} from "./oidc.keys.js";

const newDeployment = () => createMemoryDeployment({ clock: createFakeClock({ start: 0 }), random: cryptoRandom });

/** A deployment whose shared state already holds `value` under `name`. */
async function holding(name: string, value: string): Promise<SharedState> {
  const deployment = newDeployment();
  await deployment.claimShared(name, () => Promise.resolve(value));
  return deployment;
}

/** The public half of a private JWK, as a client would read it from the provider's jwks_uri. */
function publicHalf(key: JWK): JWK {
  const { kty, crv, x, y, n, e, kid, alg, use } = key;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e, kid, alg, use }).filter(([, v]) => v !== undefined));
}

// Making an RSA key takes a fraction of a second of CPU, several on a busy CI machine.
describe("loadSigningKeys", { timeout: 20_000 }, () => {
  /** One set made up front, for the tests that only need some valid keys: RSA keys are slow to make. */
  let made: { keys: JWK[] };
  beforeAll(async () => {
    made = await loadSigningKeys(newDeployment());
  });

  it("gives every load on one deployment the same keys", async () => {
    const deployment = newDeployment();
    const [first, second] = await Promise.all([loadSigningKeys(deployment), loadSigningKeys(deployment)]);
    const third = await loadSigningKeys(deployment);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  });

  it("makes no keys when the deployment already holds some, so a restart costs no key generation", async () => {
    const deployment = newDeployment();
    let created = 0;
    const counting: SharedState = {
      claimShared: (name, create) =>
        deployment.claimShared(name, () => {
          created += 1;
          return create();
        }),
    };
    const first = await loadSigningKeys(counting);
    expect(created).toBe(1);
    expect(await loadSigningKeys(counting)).toEqual(first);
    expect(created).toBe(1);
  });

  it("makes different keys for another deployment", async () => {
    const [a, b] = await Promise.all([loadSigningKeys(newDeployment()), loadSigningKeys(newDeployment())]);
    expect(a.keys.map((key) => key.kid)).not.toEqual(b.keys.map((key) => key.kid));
  });

  it("makes an ES256 and an RS256 private key, each with its thumbprint as kid, for signing", async () => {
    const { keys } = await loadSigningKeys(newDeployment());
    expect(keys.map((key) => [key.kty, key.alg, key.use])).toEqual([
      ["EC", "ES256", "sig"],
      ["RSA", "RS256", "sig"],
    ]);
    expect(keys[0]).toMatchObject({ crv: "P-256" });
    for (const key of keys) {
      expect(key.d, key.alg).toEqual(expect.any(String));
      expect(key.kid).toBe(await calculateJwkThumbprint(key));
    }
    // The provider's `jwks` option takes them as they are.
    const forProvider: ProviderJwk[] = keys;
    expect(forProvider).toHaveLength(2);
  });

  it("gives keys that sign what their public halves verify", async () => {
    const { keys } = await loadSigningKeys(newDeployment());
    const payload = new TextEncoder().encode("an ID token");
    for (const key of keys) {
      const alg = key.alg!;
      const jws = await new CompactSign(payload)
        .setProtectedHeader({ alg, kid: key.kid })
        .sign(await importJWK(key, alg));
      const verified = await compactVerify(jws, await importJWK(publicHalf(key), alg));
      expect(new TextDecoder().decode(verified.payload), alg).toBe("an ID token");
    }
  });

  it("keeps the keys a deployment already holds: another process's, or a rotated set", async () => {
    const theirs = made;
    const deployment = await holding(OIDC_SIGNING_KEYS_NAME, JSON.stringify(theirs));
    expect(await loadSigningKeys(deployment)).toEqual(theirs);
  });

  it("refuses stored keys that are not JSON, not private, miss an algorithm, or cannot be imported", async () => {
    const { keys } = made;
    const [es256, rs256] = keys as [JWK, JWK];
    const stored = async (value: string): Promise<unknown> =>
      loadSigningKeys(await holding(OIDC_SIGNING_KEYS_NAME, value)).then(
        () => "loaded",
        (error: unknown) => (error instanceof Error ? error.message : error),
      );
    expect(await stored("{not json")).toBe("Corrupt OIDC signing keys in the store: not JSON");
    expect(await stored(JSON.stringify({ keys: [publicHalf(es256), rs256] }))).toMatch(
      /^Corrupt OIDC signing keys in the store at keys.0.d: /,
    );
    expect(await stored(JSON.stringify({ keys: [es256] }))).toBe(
      "Corrupt OIDC signing keys in the store at top level: expects a key for each of ES256, RS256",
    );
    expect(await stored(JSON.stringify({ keys: [{ ...es256, x: rs256.n }, rs256] }))).toBe(
      `Corrupt OIDC signing keys in the store: key ${es256.kid} (ES256) cannot be used`,
    );
  });

  it("never quotes a stored key in its error", async () => {
    const { keys } = made;
    const broken = { keys: keys.map((key) => ({ ...key, use: "enc" })) };
    const error = await loadSigningKeys(await holding(OIDC_SIGNING_KEYS_NAME, JSON.stringify(broken))).catch(
      (caught: unknown) => caught,
    );
    expect(String(error)).toMatch(/Corrupt OIDC signing keys in the store at keys.0.use/);
    for (const key of keys) expect(String(error)).not.toContain(key.d);
  });
});

describe("loadCookieKeys", () => {
  it("gives every load on one deployment the same random secret", async () => {
    const deployment = newDeployment();
    const [first, second] = await Promise.all([
      loadCookieKeys(deployment, cryptoRandom),
      loadCookieKeys(deployment, cryptoRandom),
    ]);
    expect(second).toEqual(first);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^[\w-]{43}$/);
    expect(await loadCookieKeys(newDeployment(), cryptoRandom)).not.toEqual(first);
  });

  it("keeps stored secrets, and refuses too short ones", async () => {
    const rotated = { keys: ["n".repeat(43), "o".repeat(43)] };
    expect(await loadCookieKeys(await holding(OIDC_COOKIE_KEYS_NAME, JSON.stringify(rotated)), cryptoRandom)).toEqual(
      rotated.keys,
    );
    await expect(
      loadCookieKeys(await holding(OIDC_COOKIE_KEYS_NAME, JSON.stringify({ keys: ["short"] })), cryptoRandom),
    ).rejects.toThrow(/^Corrupt OIDC cookie keys in the store at keys.0: /);
  });
});
