import { compactVerify, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { DESKTOP_PROOF_TYP, desktopKeySchema, desktopProofSchema } from "@countersign/shared";
import { DesktopKeyError, desktopKeyOf, generateDesktopKeys, signDesktopProof } from "./desktop-key.js";

const NOW = 1_790_000_000_123;

describe("the desktop page's key", () => {
  it("makes a P-256 pair whose private half cannot be exported", async () => {
    const { keys } = await generateDesktopKeys();
    expect(keys.privateKey.extractable).toBe(false);
    expect(keys.privateKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    await expect(crypto.subtle.exportKey("jwk", keys.privateKey)).rejects.toThrow();
  });

  it("sends exactly kty, crv, x and y, which the server's strict schema accepts", async () => {
    const { desktopKey } = await generateDesktopKeys();
    expect(Object.keys(desktopKey).sort()).toEqual(["crv", "kty", "x", "y"]);
    expect(desktopKeySchema.safeParse(desktopKey).success).toBe(true);
  });

  it("drops what WebCrypto adds to a JWK, and a private key's d", () => {
    const jwk: JsonWebKey = {
      kty: "EC",
      crv: "P-256",
      x: "AAAA",
      y: "BBBB",
      d: "secret",
      ext: true,
      key_ops: ["verify"],
    };
    expect(desktopKeyOf(jwk)).toEqual({ kty: "EC", crv: "P-256", x: "AAAA", y: "BBBB" });
  });

  it("refuses a JWK that is not a P-256 public key, naming what it received", () => {
    expect(() => desktopKeyOf({ kty: "RSA", n: "AAAA", e: "AQAB" })).toThrow(/received kty RSA, crv undefined/);
    expect(() => desktopKeyOf({ kty: "EC", crv: "P-384", x: "AAAA", y: "BBBB" })).toThrow(/crv P-384/);
    expect(() => desktopKeyOf({ kty: "EC", crv: "P-256", x: "AAAA" })).toThrow(/without both coordinates/);
    expect(() => desktopKeyOf({ kty: "oct", k: "AAAA" })).toThrow(DesktopKeyError);
  });

  it("signs a proof the public half verifies: ES256, the proof typ, over id, use and iat in seconds", async () => {
    const { keys, desktopKey } = await generateDesktopKeys();
    const proof = await signDesktopProof({ privateKey: keys.privateKey, id: "login-1", use: "watch", now: NOW });
    expect(desktopProofSchema.safeParse(proof).success).toBe(true);

    const { payload, protectedHeader } = await compactVerify(proof, await importJWK(desktopKey, "ES256"));
    expect(protectedHeader).toEqual({ alg: "ES256", typ: DESKTOP_PROOF_TYP });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ id: "login-1", use: "watch", iat: 1_790_000_000 });
  });

  it("makes a proof that another request's key does not verify", async () => {
    const { keys } = await generateDesktopKeys();
    const other = await generateDesktopKeys();
    const proof = await signDesktopProof({ privateKey: keys.privateKey, id: "login-1", use: "redeem", now: NOW });
    await expect(compactVerify(proof, await importJWK(other.desktopKey, "ES256"))).rejects.toThrow();
  });
});
