import { errors } from "oidc-provider";
import { describe, expect, it } from "vitest";
import { createFakeClock } from "../testing/fake-clock.js";
import { createOidcAdapterFactory, DEFAULT_OIDC_GRACE_SECONDS, type OidcStorage } from "./oidc.adapter.js";
import { createMemoryOidcStorage } from "./oidc.storage.memory.js";

// The behaviour every storage must have (memory, Redis, a Redis Cluster) is the contract suite in
// tests/src/oidc/oidc-adapter-contract.ts. This is what the adapter adds on top, and what only
// the memory storage does, on the fake clock.

const T0 = Date.UTC(2026, 0, 1);

function setUp(options: { graceSeconds?: number } = {}): {
  clock: ReturnType<typeof createFakeClock>;
  storage: OidcStorage;
  Adapter: ReturnType<typeof createOidcAdapterFactory>;
} {
  const clock = createFakeClock({ start: T0 });
  const storage = createMemoryOidcStorage({ clock });
  return { clock, storage, Adapter: createOidcAdapterFactory({ storage, clock, ...options }) };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "resolved",
    (error: unknown) => error,
  );
}

describe("the OpenID adapter over the memory storage", () => {
  it("keeps records DEFAULT_OIDC_GRACE_SECONDS (a minute) past expiresIn unless told otherwise", async () => {
    expect(DEFAULT_OIDC_GRACE_SECONDS).toBe(60);
    const { clock, Adapter } = setUp();
    const tokens = new Adapter("AccessToken");
    await tokens.upsert("a1", { jti: "a1" }, 600);
    clock.advance(660_000 - 1);
    expect(await tokens.find("a1")).toEqual({ jti: "a1" });
    clock.advance(1);
    expect(await tokens.find("a1")).toBeUndefined();
  });

  it("refuses a grace that is negative or not a number", () => {
    const clock = createFakeClock({ start: T0 });
    const storage = createMemoryOidcStorage({ clock });
    expect(() => createOidcAdapterFactory({ storage, clock, graceSeconds: -1 })).toThrow(/graceSeconds .* got -1/);
    expect(() => createOidcAdapterFactory({ storage, clock, graceSeconds: Number.NaN })).toThrow(/graceSeconds/);
  });

  it("refuses a model name that is not letters, which could reach another model's keys", () => {
    const { Adapter } = setUp();
    expect(() => new Adapter("Access:Token")).toThrow(/letters only, got "Access:Token"/);
    expect(() => new Adapter("")).toThrow(/letters only/);
  });

  it("refuses writes it cannot store faithfully, naming what it got", async () => {
    const { Adapter } = setUp();
    const codes = new Adapter("AuthorizationCode");
    await expect(codes.upsert("", { jti: "" }, 60)).rejects.toThrow(/id must be a non-empty string, got ""/);
    await expect(codes.upsert("c1", [] as never, 60)).rejects.toThrow(/payload object, got an array/);
    await expect(codes.upsert("c1", { jti: "c1" }, Number.NaN)).rejects.toThrow(/expiresIn .* got NaN/);
    await expect(codes.upsert("c1", { jti: "c1", consumed: true }, 60)).rejects.toThrow(/consumed .* got boolean/);
    await expect(codes.consume("")).rejects.toThrow(/id must be a non-empty string/);
    await expect(codes.revokeByGrantId("")).rejects.toThrow(/grantId must be a non-empty string/);
  });

  it("finds nothing for ids that are not strings, as the library's own finders do", async () => {
    const { Adapter } = setUp();
    const sessions = new Adapter("Session");
    expect(await sessions.find(undefined as never)).toBeUndefined();
    expect(await sessions.findByUid("")).toBeUndefined();
    expect(await new Adapter("DeviceCode").findByUserCode(42 as never)).toBeUndefined();
  });

  it("stamps consumed with the injected clock's time in whole seconds", async () => {
    const { clock, Adapter } = setUp();
    const codes = new Adapter("AuthorizationCode");
    await codes.upsert("c1", { jti: "c1", kind: "AuthorizationCode" }, 60);
    clock.advance(1_999);
    await codes.consume("c1");
    expect(await codes.find("c1")).toEqual({ jti: "c1", kind: "AuthorizationCode", consumed: T0 / 1000 + 1 });
  });

  it("answers a lost consume as the library would: invalid_grant, or invalid_request_uri for a PAR", async () => {
    const { Adapter } = setUp();
    const refresh = new Adapter("RefreshToken");
    await refresh.upsert("r1", { jti: "r1" }, 60);
    await refresh.consume("r1");
    const again = await failureOf(refresh.consume("r1"));
    expect(again).toBeInstanceOf(errors.InvalidGrant);
    expect(again).toMatchObject({ error: "invalid_grant", error_detail: "refresh token already consumed" });
    expect(await failureOf(new Adapter("DeviceCode").consume("nope"))).toMatchObject({
      error: "invalid_grant",
      error_detail: "device code not found",
    });
    const par = new Adapter("PushedAuthorizationRequest");
    await par.upsert("p1", { jti: "p1" }, 60);
    await par.consume("p1");
    const parAgain = await failureOf(par.consume("p1"));
    expect(parAgain).toBeInstanceOf(errors.InvalidRequestUri);
    expect(parAgain).toMatchObject({ error: "invalid_request_uri" });
  });

  it("indexes uid for Sessions only and grantId for grant-bound models only, as the library's adapter", async () => {
    const { storage, Adapter } = setUp();
    // An Interaction carries a grantId and a session uid too; neither makes it findable or revocable.
    await new Adapter("Interaction").upsert("i1", { jti: "i1", uid: "u1", grantId: "g1" }, 60);
    await new Adapter("AccessToken").upsert("a1", { jti: "a1", grantId: "g1" }, 60);
    await new Adapter("AccessToken").revokeByGrantId("g1");
    expect(await storage.find({ model: "Interaction", id: "i1" })).not.toBeNull();
    expect(await storage.find({ model: "AccessToken", id: "a1" })).toBeNull();
    expect(await new Adapter("Interaction").findByUid("u1")).toBeUndefined();
  });

  it("lists Grants only by the account they were granted by, as the library never asks", async () => {
    const { storage, Adapter } = setUp();
    // Every token carries its accountId too; only Grants are what the phone lists.
    await new Adapter("AccessToken").upsert("a1", { jti: "a1", accountId: "u1", grantId: "g1" }, 60);
    await new Adapter("Session").upsert("s1", { jti: "s1", accountId: "u1", uid: "uid-1" }, 60);
    await new Adapter("Grant").upsert("g1", { jti: "g1", accountId: "u1", clientId: "notes" }, 60);
    expect(await storage.listByAccount({ model: "Grant", accountId: "u1" })).toEqual([
      { id: "g1", payload: { jti: "g1", accountId: "u1", clientId: "notes" }, consumedAt: null },
    ]);
    expect(await storage.listByAccount({ model: "AccessToken", accountId: "u1" })).toEqual([]);
    expect(await storage.listByAccount({ model: "Session", accountId: "u1" })).toEqual([]);
  });

  it("copies payloads in and out as JSON, as Redis stores them", async () => {
    const { Adapter } = setUp();
    const interactions = new Adapter("Interaction");
    const payload = { jti: "i1", params: { scope: "openid" }, dropped: undefined };
    await interactions.upsert("i1", payload, 60);
    payload.params.scope = "changed after saving";
    const found = await interactions.find("i1");
    expect(found).toEqual({ jti: "i1", params: { scope: "openid" } });
    expect(found).not.toHaveProperty("dropped");
    (found as { params: { scope: string } }).params.scope = "changed after reading";
    expect(await interactions.find("i1")).toEqual({ jti: "i1", params: { scope: "openid" } });
  });

  it("drops only records whose time is up when a write sweeps, a minute after the last sweep", async () => {
    const { clock, storage } = setUp();
    const write = (id: string, ttlMs: number | null): Promise<void> =>
      storage.upsert({
        model: "AccessToken",
        id,
        payload: { jti: id },
        ttlMs,
        consumedAt: null,
        uid: null,
        userCode: null,
        grantId: "g1",
        accountId: null,
      });
    await write("short", 1_000);
    await write("long", 120_000);
    await write("kept", null);
    clock.advance(60_000);
    await write("trigger", 1_000);
    expect(await storage.find({ model: "AccessToken", id: "short" })).toBeNull();
    expect(await storage.find({ model: "AccessToken", id: "long" })).toEqual({
      payload: { jti: "long" },
      consumedAt: null,
    });
    expect(await storage.find({ model: "AccessToken", id: "kept" })).toEqual({
      payload: { jti: "kept" },
      consumedAt: null,
    });
    await storage.revokeByGrantId("g1");
    expect(await storage.find({ model: "AccessToken", id: "long" })).toBeNull();
  });
});
