import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../app-error.js";
import { createFakeClock, type FakeClock } from "../testing/fake-clock.js";
import { createOidcAdapterFactory, type OidcStorage } from "./oidc.adapter.js";
import { createOidcAppsService, type OidcAppsService } from "./oidc.apps.js";
import { parseOidcClients, type OidcClient } from "./oidc.clients.js";
import { createMemoryOidcStorage } from "./oidc.storage.memory.js";

const T0 = Date.UTC(2026, 0, 1);
const T0_SECONDS = T0 / 1000;
const DAY_SECONDS = 24 * 60 * 60;
const SECRET = "a-long-enough-secret-for-a-confidential-client-0123456789";

function clientsOf(input: unknown[]): OidcClient[] {
  const parsed = parseOidcClients(input);
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  return parsed.clients;
}

const CLIENTS = clientsOf([
  {
    client_id: "notes",
    client_name: "Notes",
    client_secret: SECRET,
    redirect_uris: ["https://notes.example/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    logo_uri: "https://notes.example/logo.png",
    client_uri: "https://notes.example/",
  },
  {
    client_id: "atlas.tv",
    client_name: "Atlas",
    token_endpoint_auth_method: "none",
    grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
  },
]);

let clock: FakeClock;
let storage: OidcStorage;
let Adapter: ReturnType<typeof createOidcAdapterFactory>;
let apps: OidcAppsService;

beforeEach(() => {
  clock = createFakeClock({ start: T0 });
  storage = createMemoryOidcStorage({ clock });
  Adapter = createOidcAdapterFactory({ storage, clock });
  apps = createOidcAppsService({ storage, clients: CLIENTS });
});

/** A Grant as the library saves one (lib/models/grant.js), through the adapter, as it does. */
async function saveGrant(options: {
  id: string;
  accountId?: string;
  clientId: string;
  scope: string;
  rejected?: string;
  iat?: number;
  ttlSeconds?: number;
}): Promise<void> {
  const iat = options.iat ?? T0_SECONDS;
  const ttl = options.ttlSeconds ?? 365 * DAY_SECONDS;
  await new Adapter("Grant").upsert(
    options.id,
    {
      iat,
      exp: iat + ttl,
      jti: options.id,
      kind: "Grant",
      accountId: options.accountId ?? "u1",
      clientId: options.clientId,
      openid: { scope: options.scope },
      ...(options.rejected === undefined ? {} : { rejected: { openid: { scope: options.rejected } } }),
    },
    ttl,
  );
}

/** An access token, a refresh token and a code issued under the grant. */
async function saveTokens(grantId: string): Promise<void> {
  for (const model of ["AccessToken", "RefreshToken", "AuthorizationCode"]) {
    await new Adapter(model).upsert(`${model}-${grantId}`, { jti: `${model}-${grantId}`, grantId }, 600);
  }
}

/** Which of saveTokens' tokens are still stored. */
async function tokensLeft(grantId: string): Promise<string[]> {
  const left: string[] = [];
  for (const model of ["AccessToken", "RefreshToken", "AuthorizationCode"]) {
    if ((await new Adapter(model).find(`${model}-${grantId}`)) !== undefined) left.push(model);
  }
  return left;
}

describe("listApps", () => {
  it("lists one entry per app, its grants merged: every scope once, granted when first let in", async () => {
    await saveGrant({ id: "g1", clientId: "notes", scope: "openid profile", iat: T0_SECONDS + 100 });
    await saveGrant({ id: "g2", clientId: "notes", scope: "openid offline_access", iat: T0_SECONDS + 50 });
    await saveGrant({ id: "g3", clientId: "atlas.tv", scope: "openid" });
    expect(await apps.listApps({ userId: "u1" })).toEqual([
      {
        clientId: "atlas.tv",
        name: "Atlas",
        logoUri: null,
        clientUri: null,
        scopes: ["openid"],
        grantedAt: T0,
      },
      {
        clientId: "notes",
        name: "Notes",
        logoUri: "https://notes.example/logo.png",
        clientUri: "https://notes.example/",
        scopes: ["openid", "profile", "offline_access"],
        grantedAt: T0 + 50_000,
      },
    ]);
  });

  it("leaves out the scopes the person refused, but never openid", async () => {
    await saveGrant({
      id: "g1",
      clientId: "notes",
      scope: "openid profile offline_access",
      rejected: "openid profile",
    });
    expect((await apps.listApps({ userId: "u1" }))[0]?.scopes).toEqual(["openid", "offline_access"]);
  });

  it("lists only the person's own apps", async () => {
    await saveGrant({ id: "g1", clientId: "notes", scope: "openid", accountId: "u2" });
    expect(await apps.listApps({ userId: "u1" })).toEqual([]);
    expect((await apps.listApps({ userId: "u2" })).map((app) => app.clientId)).toEqual(["notes"]);
  });

  it("leaves out a grant whose time is up, and an app no longer configured", async () => {
    await saveGrant({ id: "g1", clientId: "notes", scope: "openid", ttlSeconds: DAY_SECONDS });
    await saveGrant({ id: "g2", clientId: "retired", scope: "openid" });
    expect((await apps.listApps({ userId: "u1" })).map((app) => app.clientId)).toEqual(["notes"]);
    clock.advance(2 * DAY_SECONDS * 1000);
    expect(await apps.listApps({ userId: "u1" })).toEqual([]);
  });

  it("lists nothing when no app is configured (the provider is off)", async () => {
    await saveGrant({ id: "g1", clientId: "notes", scope: "openid" });
    const none = createOidcAppsService({ storage, clients: [] });
    expect(await none.listApps({ userId: "u1" })).toEqual([]);
    await expect(none.removeApp({ userId: "u1", clientId: "notes" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses a stored Grant it cannot read, naming it, rather than hide it", async () => {
    await new Adapter("Grant").upsert("g1", { jti: "g1", kind: "Grant", accountId: "u1", iat: T0_SECONDS }, 60);
    await expect(apps.listApps({ userId: "u1" })).rejects.toThrow(/Corrupt OpenID Grant g1 .* clientId/);
  });
});

describe("removeApp", () => {
  it("revokes every grant of the app with its tokens, and leaves the person's other apps alone", async () => {
    await saveGrant({ id: "g1", clientId: "notes", scope: "openid" });
    await saveGrant({ id: "g2", clientId: "notes", scope: "openid offline_access" });
    await saveGrant({ id: "g3", clientId: "atlas.tv", scope: "openid" });
    for (const grantId of ["g1", "g2", "g3"]) await saveTokens(grantId);

    await apps.removeApp({ userId: "u1", clientId: "notes" });

    expect(await tokensLeft("g1")).toEqual([]);
    expect(await tokensLeft("g2")).toEqual([]);
    expect(await new Adapter("Grant").find("g1")).toBeUndefined();
    expect(await new Adapter("Grant").find("g2")).toBeUndefined();
    expect(await tokensLeft("g3")).toEqual(["AccessToken", "RefreshToken", "AuthorizationCode"]);
    expect((await apps.listApps({ userId: "u1" })).map((app) => app.clientId)).toEqual(["atlas.tv"]);
  });

  it("answers NOT_FOUND for an app that has no grant of the person's, and for one never configured", async () => {
    await saveGrant({ id: "g1", clientId: "notes", scope: "openid" });
    for (const clientId of ["atlas.tv", "never-configured"]) {
      const failure = await apps.removeApp({ userId: "u1", clientId }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AppError);
      expect(failure).toMatchObject({ code: "NOT_FOUND" });
    }
  });

  it("cannot remove another person's grant of the same app", async () => {
    await saveGrant({ id: "theirs", clientId: "notes", scope: "openid", accountId: "u2" });
    await saveTokens("theirs");
    await expect(apps.removeApp({ userId: "u1", clientId: "notes" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await new Adapter("Grant").find("theirs")).toBeDefined();
    expect(await tokensLeft("theirs")).toEqual(["AccessToken", "RefreshToken", "AuthorizationCode"]);
  });

  it("answers NOT_FOUND the second time: nothing is left to remove", async () => {
    await saveGrant({ id: "g1", clientId: "notes", scope: "openid" });
    await apps.removeApp({ userId: "u1", clientId: "notes" });
    await expect(apps.removeApp({ userId: "u1", clientId: "notes" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
