import { beforeEach, describe, expect, it } from "vitest";
import { createOidcAdapterFactory, type OidcStorage } from "@countersign/server";
import { createFakeClock, type FakeClock } from "@countersign/server/testing";

export const T0 = Date.UTC(2026, 0, 1);
const T0_SECONDS = T0 / 1000;
/** The grace every contract adapter gets: records outlive their expiresIn by this much. */
export const GRACE_SECONDS = 60;

type AdapterClass = ReturnType<typeof createOidcAdapterFactory>;
type OidcAdapter = InstanceType<AdapterClass>;
/** oidc-provider's AdapterPayload, without importing the library here. */
type Payload = Parameters<OidcAdapter["upsert"]>[1];

/** A payload shaped as oidc-provider's (example/my_adapter.js) for a model instance. */
export function payloadOf(kind: string, jti: string, extra: Record<string, unknown> = {}): Payload {
  return { jti, kind, iat: T0_SECONDS, exp: T0_SECONDS + 600, clientId: "notes", accountId: "u1", ...extra } as Payload;
}

/** How a promise settled: "resolved", or the `error` code of the OIDC error it rejected with. */
async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "resolved",
    (error: unknown) => {
      if (typeof error === "object" && error !== null && "error" in error) return String(error.error);
      throw error;
    },
  );
}

/**
 * The behaviour every OidcStorage must have, asserted through the adapter oidc-provider calls
 * (its interface: upsert, find, findByUid, findByUserCode, consume, destroy, revokeByGrantId)
 * and measured by the fake clock alone; and the one lookup the library never makes, an
 * account's Grants, asked of the storage itself. Memory, Redis and a Redis Cluster each run it.
 */
export function describeOidcAdapterContract(name: string, make: (clock: FakeClock) => OidcStorage): void {
  describe(`OpenID adapter contract: ${name}`, () => {
    let clock: FakeClock;
    let storage: OidcStorage;
    let Adapter: AdapterClass;
    let adapters: Map<string, OidcAdapter>;
    /** The adapter of one model, as the library keeps one per model. */
    const model = (modelName: string): OidcAdapter => {
      const existing = adapters.get(modelName);
      if (existing !== undefined) return existing;
      const created = new Adapter(modelName);
      adapters.set(modelName, created);
      return created;
    };

    beforeEach(() => {
      clock = createFakeClock({ start: T0 });
      storage = make(clock);
      Adapter = createOidcAdapterFactory({ storage, clock, graceSeconds: GRACE_SECONDS });
      adapters = new Map();
    });

    describe("upsert and find", () => {
      it("finds what was saved, as it was given: nested objects, empty arrays and objects, text", async () => {
        const payload = payloadOf("AccessToken", "a1", {
          amr: [],
          claims: {},
          extra: { nested: { list: [1, "two", null, false], empty: [] } },
          scope: "openid profile",
          resource: ["https://api.example/", "https://other.example/"],
          nonce: 'zoë 山田 🙂 \u0000 "quoted" \\',
          expiresWithSession: true,
        });
        await model("AccessToken").upsert("a1", payload, 600);
        expect(await model("AccessToken").find("a1")).toEqual(payload);
      });

      it("finds nothing for an id never saved", async () => {
        expect(await model("AccessToken").find("never-saved")).toBeUndefined();
      });

      it("replaces the whole payload on a second save", async () => {
        await model("Interaction").upsert("i1", payloadOf("Interaction", "i1", { returnTo: "/a", result: {} }), 600);
        const second = payloadOf("Interaction", "i1", { returnTo: "/b" });
        await model("Interaction").upsert("i1", second, 600);
        expect(await model("Interaction").find("i1")).toEqual(second);
      });

      it("round-trips a large payload (1 MiB of text and 10,000 list entries)", async () => {
        const payload = payloadOf("Interaction", "big", {
          params: {
            request: "x".repeat(1024 * 1024),
            list: Array.from({ length: 10_000 }, (_, index) => `entry-${index}`),
          },
        });
        await model("Interaction").upsert("big", payload, 600);
        expect(await model("Interaction").find("big")).toEqual(payload);
      });
    });

    describe("model names", () => {
      it("keeps records of two models with the same id apart, in find, consume and destroy", async () => {
        const access = payloadOf("AccessToken", "same", { scope: "openid" });
        const refresh = payloadOf("RefreshToken", "same", { scope: "offline_access" });
        await model("AccessToken").upsert("same", access, 600);
        await model("RefreshToken").upsert("same", refresh, 600);
        expect(await model("AccessToken").find("same")).toEqual(access);
        expect(await model("RefreshToken").find("same")).toEqual(refresh);
        expect(await model("AuthorizationCode").find("same")).toBeUndefined();

        await model("RefreshToken").consume("same");
        expect(await model("AccessToken").find("same")).toEqual(access);
        await model("AccessToken").destroy("same");
        expect(await model("AccessToken").find("same")).toBeUndefined();
        expect(await model("RefreshToken").find("same")).toEqual({ ...refresh, consumed: T0_SECONDS });
      });

      it("keeps the user codes and uids of different models apart", async () => {
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "ABCD-EFGH" }), 600);
        await model("Session").upsert("s1", payloadOf("Session", "s1", { uid: "ABCD-EFGH" }), 600);
        expect(await model("DeviceCode").findByUid("ABCD-EFGH")).toBeUndefined();
        expect(await model("Session").findByUserCode("ABCD-EFGH")).toBeUndefined();
        expect((await model("DeviceCode").findByUserCode("ABCD-EFGH"))?.jti).toBe("d1");
        expect((await model("Session").findByUid("ABCD-EFGH"))?.jti).toBe("s1");
      });
    });

    describe("expiry, by the clock", () => {
      it("keeps a record past its expiresIn for the grace, so the library can answer expired_token", async () => {
        const code = payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT" });
        await model("DeviceCode").upsert("d1", code, 600);
        clock.advance(600_000);
        // Expired by its exp, and still there: the library itself decides it has expired.
        expect(await model("DeviceCode").find("d1")).toEqual(code);
        clock.advance(GRACE_SECONDS * 1000 - 1);
        expect(await model("DeviceCode").find("d1")).toEqual(code);
        expect(await model("DeviceCode").findByUserCode("WDJB-MJHT")).toEqual(code);
      });

      it("reads a record as absent once its expiresIn and the grace have passed, with its indexes", async () => {
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT" }), 600);
        await model("Session").upsert("s1", payloadOf("Session", "s1", { uid: "uid-1" }), 600);
        clock.advance((600 + GRACE_SECONDS) * 1000);
        expect(await model("DeviceCode").find("d1")).toBeUndefined();
        expect(await model("DeviceCode").findByUserCode("WDJB-MJHT")).toBeUndefined();
        expect(await model("Session").findByUid("uid-1")).toBeUndefined();
        expect(await outcomeOf(model("DeviceCode").consume("d1"))).toBe("invalid_grant");
      });

      it("keeps a record saved already past its time (expiresIn 0 or less) for the grace only", async () => {
        await model("ReplayDetection").upsert("r1", payloadOf("ReplayDetection", "r1"), 0);
        await model("ReplayDetection").upsert("r2", payloadOf("ReplayDetection", "r2"), -30);
        clock.advance(GRACE_SECONDS * 1000 - 1);
        expect(await model("ReplayDetection").find("r1")).toBeDefined();
        expect(await model("ReplayDetection").find("r2")).toBeDefined();
        clock.advance(1);
        expect(await model("ReplayDetection").find("r1")).toBeUndefined();
        expect(await model("ReplayDetection").find("r2")).toBeUndefined();
      });

      it("keeps a record saved without expiresIn until it is destroyed", async () => {
        const grant = payloadOf("Grant", "g1", { openid: { scope: "openid" } });
        delete grant.exp;
        await model("Grant").upsert("g1", grant);
        clock.advance(400 * 24 * 60 * 60 * 1000);
        expect(await model("Grant").find("g1")).toEqual(grant);
        await model("Grant").destroy("g1");
        expect(await model("Grant").find("g1")).toBeUndefined();
      });

      it("gives a record saved again the new expiresIn", async () => {
        await model("Session").upsert("s1", payloadOf("Session", "s1", { uid: "uid-1" }), 60);
        clock.advance(50_000);
        await model("Session").upsert("s1", payloadOf("Session", "s1", { uid: "uid-1" }), 600);
        clock.advance((600 + GRACE_SECONDS) * 1000 - 1);
        expect(await model("Session").findByUid("uid-1")).toBeDefined();
        clock.advance(1);
        expect(await model("Session").findByUid("uid-1")).toBeUndefined();
      });
    });

    describe("findByUid and findByUserCode", () => {
      it("finds a Session by its uid, and nothing by a uid never saved", async () => {
        const session = payloadOf("Session", "jti-1", { uid: "uid-1", authorizations: { notes: { sid: "x" } } });
        await model("Session").upsert("jti-1", session, 600);
        expect(await model("Session").findByUid("uid-1")).toEqual(session);
        expect(await model("Session").findByUid("uid-2")).toBeUndefined();
      });

      it("follows a Session whose id changes (saved under the new id, the old one destroyed)", async () => {
        await model("Session").upsert("jti-old", payloadOf("Session", "jti-old", { uid: "uid-1" }), 600);
        await model("Session").upsert("jti-new", payloadOf("Session", "jti-new", { uid: "uid-1" }), 600);
        await model("Session").destroy("jti-old");
        expect((await model("Session").findByUid("uid-1"))?.jti).toBe("jti-new");
        await model("Session").destroy("jti-new");
        expect(await model("Session").findByUid("uid-1")).toBeUndefined();
      });

      it("finds a DeviceCode by its user code, with what the phone saved on it since", async () => {
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT" }), 600);
        const approved = payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT", grantId: "g1", scope: "openid" });
        await model("DeviceCode").upsert("d1", approved, 600);
        expect(await model("DeviceCode").findByUserCode("WDJB-MJHT")).toEqual(approved);
        expect(await model("DeviceCode").findByUserCode("WDJB-MJHX")).toBeUndefined();
      });

      it("stops finding a record by a user code it no longer has", async () => {
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "AAAA-AAAA" }), 600);
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "BBBB-BBBB" }), 600);
        expect(await model("DeviceCode").findByUserCode("AAAA-AAAA")).toBeUndefined();
        expect((await model("DeviceCode").findByUserCode("BBBB-BBBB"))?.jti).toBe("d1");
      });

      it("shows consumed on what the user code finds", async () => {
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT" }), 600);
        await model("DeviceCode").consume("d1");
        expect((await model("DeviceCode").findByUserCode("WDJB-MJHT"))?.consumed).toBe(T0_SECONDS);
      });
    });

    describe("consume", () => {
      it("lets exactly one of 20 concurrent consumers win; find then shows consumed, in seconds", async () => {
        await model("AuthorizationCode").upsert("c1", payloadOf("AuthorizationCode", "c1", { grantId: "g1" }), 60);
        clock.advance(1_500);
        // One adapter per consumer, as each request (or process) would use.
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, () => outcomeOf(new Adapter("AuthorizationCode").consume("c1"))),
        );
        expect(outcomes.filter((outcome) => outcome === "resolved")).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === "invalid_grant")).toHaveLength(19);
        expect(await model("AuthorizationCode").find("c1")).toEqual({
          ...payloadOf("AuthorizationCode", "c1", { grantId: "g1" }),
          consumed: T0_SECONDS + 1,
        });
      });

      it("consumes each of the library's single-use models once", async () => {
        for (const modelName of [
          "AuthorizationCode",
          "RefreshToken",
          "DeviceCode",
          "BackchannelAuthenticationRequest",
        ]) {
          await model(modelName).upsert("x1", payloadOf(modelName, "x1"), 600);
          expect(await outcomeOf(model(modelName).consume("x1")), modelName).toBe("resolved");
          expect(await outcomeOf(model(modelName).consume("x1")), modelName).toBe("invalid_grant");
        }
        await model("PushedAuthorizationRequest").upsert("p1", payloadOf("PushedAuthorizationRequest", "p1"), 600);
        expect(await outcomeOf(model("PushedAuthorizationRequest").consume("p1"))).toBe("resolved");
        expect(await outcomeOf(model("PushedAuthorizationRequest").consume("p1"))).toBe("invalid_request_uri");
      });

      it("consumes a record past its expiresIn but within the grace (the library decides what that means)", async () => {
        await model("RefreshToken").upsert("r1", payloadOf("RefreshToken", "r1"), 600);
        clock.advance(630_000);
        await model("RefreshToken").consume("r1");
        expect((await model("RefreshToken").find("r1"))?.consumed).toBe(T0_SECONDS + 630);
      });

      it("refuses to consume a record that is absent or destroyed, and creates nothing", async () => {
        expect(await outcomeOf(model("AuthorizationCode").consume("never-saved"))).toBe("invalid_grant");
        expect(await model("AuthorizationCode").find("never-saved")).toBeUndefined();
        await model("AuthorizationCode").upsert("c1", payloadOf("AuthorizationCode", "c1"), 60);
        await model("AuthorizationCode").destroy("c1");
        expect(await outcomeOf(model("AuthorizationCode").consume("c1"))).toBe("invalid_grant");
        expect(await model("AuthorizationCode").find("c1")).toBeUndefined();
      });

      it("keeps a record consumed when a copy read before the consume is saved again", async () => {
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT" }), 600);
        const stale = await model("DeviceCode").find("d1");
        expect(stale?.consumed).toBeUndefined();
        clock.advance(5_000);
        await model("DeviceCode").consume("d1");
        await model("DeviceCode").upsert("d1", { ...stale, accountId: "u2" }, 600);
        const found = await model("DeviceCode").find("d1");
        expect(found).toMatchObject({ accountId: "u2", consumed: T0_SECONDS + 5 });
        expect(await outcomeOf(model("DeviceCode").consume("d1"))).toBe("invalid_grant");
      });

      it("saves consumed when the payload carries it, and refuses to consume it again", async () => {
        const consumed = { ...payloadOf("RefreshToken", "r1"), consumed: T0_SECONDS - 10 };
        await model("RefreshToken").upsert("r1", consumed, 600);
        expect(await model("RefreshToken").find("r1")).toEqual(consumed);
        expect(await outcomeOf(model("RefreshToken").consume("r1"))).toBe("invalid_grant");
      });

      it("does not carry a consumed stamp over to a record saved after the old one's time was up", async () => {
        await model("AuthorizationCode").upsert("c1", payloadOf("AuthorizationCode", "c1"), 60);
        await model("AuthorizationCode").consume("c1");
        clock.advance((60 + GRACE_SECONDS) * 1000);
        await model("AuthorizationCode").upsert("c1", payloadOf("AuthorizationCode", "c1"), 60);
        expect((await model("AuthorizationCode").find("c1"))?.consumed).toBeUndefined();
      });
    });

    describe("destroy", () => {
      it("removes the record and what finds it by uid or user code", async () => {
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT" }), 600);
        await model("Session").upsert("s1", payloadOf("Session", "s1", { uid: "uid-1" }), 600);
        await model("DeviceCode").destroy("d1");
        await model("Session").destroy("s1");
        expect(await model("DeviceCode").find("d1")).toBeUndefined();
        expect(await model("DeviceCode").findByUserCode("WDJB-MJHT")).toBeUndefined();
        expect(await model("Session").find("s1")).toBeUndefined();
        expect(await model("Session").findByUid("uid-1")).toBeUndefined();
      });

      it("does nothing for an id never saved, and leaves other records alone", async () => {
        await model("AccessToken").upsert("a1", payloadOf("AccessToken", "a1"), 600);
        await model("AccessToken").destroy("never-saved");
        expect(await model("AccessToken").find("a1")).toBeDefined();
      });
    });

    describe("revokeByGrantId", () => {
      async function saveGrantTokens(grantId: string, suffix: string): Promise<void> {
        await model("AccessToken").upsert(`a${suffix}`, payloadOf("AccessToken", `a${suffix}`, { grantId }), 600);
        await model("RefreshToken").upsert(`r${suffix}`, payloadOf("RefreshToken", `r${suffix}`, { grantId }), 600);
        await model("AuthorizationCode").upsert(
          `c${suffix}`,
          payloadOf("AuthorizationCode", `c${suffix}`, { grantId }),
          60,
        );
        await model("DeviceCode").upsert(
          `d${suffix}`,
          payloadOf("DeviceCode", `d${suffix}`, { grantId, userCode: `CODE-${suffix}` }),
          600,
        );
        await model("BackchannelAuthenticationRequest").upsert(
          `b${suffix}`,
          payloadOf("BackchannelAuthenticationRequest", `b${suffix}`, { grantId }),
          600,
        );
      }
      const TOKEN_MODELS = [
        ["AccessToken", "a"],
        ["RefreshToken", "r"],
        ["AuthorizationCode", "c"],
        ["DeviceCode", "d"],
        ["BackchannelAuthenticationRequest", "b"],
      ] as const;

      it("removes every token of the grant, of every model, whichever model's adapter it is called on", async () => {
        await saveGrantTokens("g1", "1");
        await model("AccessToken").revokeByGrantId("g1");
        for (const [modelName, letter] of TOKEN_MODELS) {
          expect(await model(modelName).find(`${letter}1`), modelName).toBeUndefined();
        }
        expect(await model("DeviceCode").findByUserCode("CODE-1")).toBeUndefined();
      });

      it("removes nothing else: other grants' tokens, the Grant, its Session and Interaction", async () => {
        await saveGrantTokens("g1", "1");
        await saveGrantTokens("g2", "2");
        await model("Grant").upsert("g1", payloadOf("Grant", "g1"), 3600);
        await model("Session").upsert(
          "s1",
          payloadOf("Session", "s1", { uid: "uid-1", authorizations: { notes: { grantId: "g1" } } }),
          600,
        );
        await model("Interaction").upsert("i1", payloadOf("Interaction", "i1", { grantId: "g1" }), 600);
        await model("RefreshToken").revokeByGrantId("g1");
        for (const [modelName, letter] of TOKEN_MODELS) {
          expect(await model(modelName).find(`${letter}2`), modelName).toBeDefined();
        }
        expect(await model("DeviceCode").findByUserCode("CODE-2")).toBeDefined();
        expect(await model("Grant").find("g1")).toBeDefined();
        expect(await model("Session").findByUid("uid-1")).toBeDefined();
        expect(await model("Interaction").find("i1")).toBeDefined();
      });

      it("revokes a token under the grant it was last saved with", async () => {
        // A device code gets its grant when the phone approves it, and is saved again.
        await model("DeviceCode").upsert("d1", payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT" }), 600);
        await model("DeviceCode").upsert(
          "d1",
          payloadOf("DeviceCode", "d1", { userCode: "WDJB-MJHT", grantId: "g1" }),
          600,
        );
        await model("AccessToken").upsert("a1", payloadOf("AccessToken", "a1", { grantId: "g1" }), 600);
        await model("AccessToken").upsert("a1", payloadOf("AccessToken", "a1", { grantId: "g2" }), 600);
        await model("DeviceCode").revokeByGrantId("g1");
        expect(await model("DeviceCode").find("d1")).toBeUndefined();
        expect(await model("AccessToken").find("a1")).toBeDefined();
        await model("DeviceCode").revokeByGrantId("g2");
        expect(await model("AccessToken").find("a1")).toBeUndefined();
      });

      it("revokes consumed tokens too, and tokens issued after an earlier revoke of the grant", async () => {
        await saveGrantTokens("g1", "1");
        await model("AuthorizationCode").consume("c1");
        await model("AccessToken").revokeByGrantId("g1");
        expect(await model("AuthorizationCode").find("c1")).toBeUndefined();
        await model("AccessToken").upsert("a3", payloadOf("AccessToken", "a3", { grantId: "g1" }), 600);
        await model("AccessToken").revokeByGrantId("g1");
        expect(await model("AccessToken").find("a3")).toBeUndefined();
      });

      it("revokes the tokens of a grant refreshed many times, as long as each one is kept", async () => {
        // Rotation saves a new refresh and access token every time; the old ones lapse.
        for (let round = 0; round < 30; round += 1) {
          await model("RefreshToken").upsert(
            `r${round}`,
            payloadOf("RefreshToken", `r${round}`, { grantId: "g1" }),
            600,
          );
          await model("AccessToken").upsert(`a${round}`, payloadOf("AccessToken", `a${round}`, { grantId: "g1" }), 60);
          clock.advance(100_000);
        }
        await model("RefreshToken").revokeByGrantId("g1");
        for (let round = 0; round < 30; round += 1) {
          expect(await model("RefreshToken").find(`r${round}`), `r${round}`).toBeUndefined();
          expect(await model("AccessToken").find(`a${round}`), `a${round}`).toBeUndefined();
        }
      });

      it("does nothing for a grant with no tokens", async () => {
        await model("AccessToken").upsert("a1", payloadOf("AccessToken", "a1", { grantId: "g1" }), 600);
        await model("AccessToken").revokeByGrantId("g-unknown");
        expect(await model("AccessToken").find("a1")).toBeDefined();
      });
    });

    describe("listByAccount (an account's Grants)", () => {
      /** A Grant as the library saves one: its accountId and clientId, what was granted. */
      const grantOf = (jti: string, extra: Record<string, unknown> = {}): Payload =>
        payloadOf("Grant", jti, { openid: { scope: "openid profile" }, ...extra });
      const grantsOf = async (accountId: string): Promise<{ id: string; payload: unknown }[]> =>
        (await storage.listByAccount({ model: "Grant", accountId }))
          .map(({ id, payload }) => ({ id, payload }))
          .sort((a, b) => a.id.localeCompare(b.id));

      it("lists every live Grant of the account, as saved, and no other account's", async () => {
        await model("Grant").upsert("g1", grantOf("g1"), 3600);
        await model("Grant").upsert("g2", grantOf("g2", { clientId: "tv" }), 3600);
        await model("Grant").upsert("g3", grantOf("g3", { accountId: "u2" }), 3600);
        expect(await grantsOf("u1")).toEqual([
          { id: "g1", payload: grantOf("g1") },
          { id: "g2", payload: grantOf("g2", { clientId: "tv" }) },
        ]);
        expect(await grantsOf("u2")).toEqual([{ id: "g3", payload: grantOf("g3", { accountId: "u2" }) }]);
        expect(await grantsOf("u-never")).toEqual([]);
      });

      it("lists a Grant saved again once, as last saved", async () => {
        await model("Grant").upsert("g1", grantOf("g1"), 3600);
        const widened = grantOf("g1", { openid: { scope: "openid profile offline_access" } });
        await model("Grant").upsert("g1", widened, 3600);
        expect(await grantsOf("u1")).toEqual([{ id: "g1", payload: widened }]);
      });

      it("lists only Grants: the tokens and sessions of the account carry its id too", async () => {
        await model("AccessToken").upsert("a1", payloadOf("AccessToken", "a1", { grantId: "g1" }), 600);
        await model("Session").upsert("s1", payloadOf("Session", "s1", { uid: "uid-1" }), 600);
        expect(await grantsOf("u1")).toEqual([]);
        expect(await storage.listByAccount({ model: "AccessToken", accountId: "u1" })).toEqual([]);
      });

      it("stops listing a Grant once its expiresIn and the grace have passed, and keeps the others", async () => {
        await model("Grant").upsert("short", grantOf("short"), 600);
        await model("Grant").upsert("long", grantOf("long"), 3600);
        const forever = grantOf("forever");
        delete forever.exp;
        await model("Grant").upsert("forever", forever);
        clock.advance((600 + GRACE_SECONDS) * 1000 - 1);
        expect((await grantsOf("u1")).map(({ id }) => id)).toEqual(["forever", "long", "short"]);
        clock.advance(1);
        expect((await grantsOf("u1")).map(({ id }) => id)).toEqual(["forever", "long"]);
        clock.advance(400 * 24 * 60 * 60 * 1000);
        expect((await grantsOf("u1")).map(({ id }) => id)).toEqual(["forever"]);
      });

      it("follows a Grant saved again with a longer expiresIn", async () => {
        await model("Grant").upsert("g1", grantOf("g1"), 60);
        clock.advance(30_000);
        await model("Grant").upsert("g1", grantOf("g1"), 3600);
        clock.advance((60 + GRACE_SECONDS) * 1000);
        expect((await grantsOf("u1")).map(({ id }) => id)).toEqual(["g1"]);
      });

      it("stops listing a destroyed Grant, and lists one saved after an expired one was dropped", async () => {
        await model("Grant").upsert("g1", grantOf("g1"), 3600);
        await model("Grant").upsert("g2", grantOf("g2"), 60);
        await model("Grant").destroy("g1");
        expect((await grantsOf("u1")).map(({ id }) => id)).toEqual(["g2"]);
        clock.advance((60 + GRACE_SECONDS) * 1000);
        expect(await grantsOf("u1")).toEqual([]);
        await model("Grant").upsert("g3", grantOf("g3"), 3600);
        expect((await grantsOf("u1")).map(({ id }) => id)).toEqual(["g3"]);
      });

      it("lists a Grant under the account it was last saved with", async () => {
        await model("Grant").upsert("g1", grantOf("g1"), 3600);
        await model("Grant").upsert("g1", grantOf("g1", { accountId: "u2" }), 3600);
        expect(await grantsOf("u1")).toEqual([]);
        expect((await grantsOf("u2")).map(({ id }) => id)).toEqual(["g1"]);
      });

      it("keeps listing a Grant whose tokens were revoked: only destroy removes it", async () => {
        await model("Grant").upsert("g1", grantOf("g1"), 3600);
        await model("AccessToken").upsert("a1", payloadOf("AccessToken", "a1", { grantId: "g1" }), 600);
        await model("AccessToken").revokeByGrantId("g1");
        expect((await grantsOf("u1")).map(({ id }) => id)).toEqual(["g1"]);
        await model("Grant").destroy("g1");
        expect(await grantsOf("u1")).toEqual([]);
      });
    });
  });
}
