import Provider, { type ClientMetadata } from "oidc-provider";
import { describe, expect, it, vi } from "vitest";
import { OIDC_EXTRA_CLIENT_METADATA, parseOidcClients, type OidcClient } from "./oidc.clients.js";

const SECRET = "a-secret-of-at-least-32-characters-0123";
const CIBA = "urn:openid:params:grant-type:ciba";
const DEVICE = "urn:ietf:params:oauth:grant-type:device_code";

/**
 * oidc-provider with the features these clients need, to look clients up the way it will:
 * it checks a static client's metadata only then.
 */
async function providerAccepts(clients: ClientMetadata[]): Promise<boolean[]> {
  // It warns about its development-only adapter and keys, which this check does not use.
  const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
  try {
    const provider = new Provider("http://localhost:3000/oidc", {
      clients,
      extraClientMetadata: { properties: [...OIDC_EXTRA_CLIENT_METADATA] },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: { enabled: true },
        deviceFlow: { enabled: true },
        ciba: {
          enabled: true,
          deliveryModes: ["poll", "ping"],
          processLoginHint: () => Promise.resolve("someone"),
          validateRequestContext: () => Promise.resolve(),
          verifyUserCode: () => Promise.resolve(),
          triggerAuthenticationDevice: () => Promise.resolve(),
        },
      },
    });
    return await Promise.all(
      clients.map((client) =>
        provider.Client.find(client.client_id).then(
          (found) => found?.clientId === client.client_id,
          () => false,
        ),
      ),
    );
  } finally {
    warn.mockRestore();
  }
}

const webApp = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: SECRET,
  redirect_uris: ["https://notes.example.com/callback"],
};

function clientsOf(input: unknown): OidcClient[] {
  const parsed = parseOidcClients(input);
  if (!parsed.ok) throw new Error(`expected valid clients, got:\n${parsed.problems.join("\n")}`);
  return parsed.clients;
}

function problemsOf(input: unknown): string[] {
  const parsed = parseOidcClients(input);
  if (parsed.ok) throw new Error("expected problems, got valid clients");
  return parsed.problems;
}

/** The problems of one client made of webApp with `changes` (undefined removes a field). */
function problemsWith(changes: Record<string, unknown>): string[] {
  const client: Record<string, unknown> = { ...webApp, ...changes };
  for (const [field, value] of Object.entries(changes)) if (value === undefined) delete client[field];
  return problemsOf([client]);
}

describe("parseOidcClients", () => {
  it("fills in the defaults of a confidential web app, in oidc-provider's shape", () => {
    const clients = clientsOf([webApp]);
    expect(clients).toEqual([
      {
        client_id: "notes",
        client_name: "Notes",
        client_secret: SECRET,
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: ["https://notes.example.com/callback"],
        post_logout_redirect_uris: [],
        first_party: false,
      },
    ]);
    // What the provider's `clients` option takes; a type error here means the shapes drifted.
    const forProvider: ClientMetadata[] = clients;
    expect(forProvider).toHaveLength(1);
  });

  it("takes every field a client may set", () => {
    const full = {
      ...webApp,
      token_endpoint_auth_method: "client_secret_post",
      redirect_uris: ["https://notes.example.com/callback", "http://localhost:4000/callback"],
      post_logout_redirect_uris: ["https://notes.example.com/"],
      grant_types: ["authorization_code", "refresh_token", DEVICE, CIBA],
      response_types: ["code"],
      logo_uri: "https://notes.example.com/logo.png",
      client_uri: "https://notes.example.com/",
      first_party: true,
      backchannel_token_delivery_mode: "ping",
      backchannel_client_notification_endpoint: "https://notes.example.com/ciba",
    };
    expect(clientsOf([full])).toEqual([{ ...full }]);
  });

  it("reads an empty file as no clients", () => {
    expect(clientsOf([])).toEqual([]);
  });

  it('takes a public client with token_endpoint_auth_method "none" and no secret', () => {
    const [client] = clientsOf([
      {
        client_id: "cli",
        client_name: "Command line",
        token_endpoint_auth_method: "none",
        redirect_uris: ["http://127.0.0.1/callback", "http://[::1]:8080/callback"],
      },
    ]);
    expect(client).toMatchObject({ token_endpoint_auth_method: "none", grant_types: ["authorization_code"] });
    expect(client).not.toHaveProperty("client_secret");
  });

  it("takes a device-only client without redirect URIs, with no response types", () => {
    const [client] = clientsOf([
      { client_id: "tv", client_name: "TV", token_endpoint_auth_method: "none", grant_types: [DEVICE] },
    ]);
    expect(client).toMatchObject({ grant_types: [DEVICE], response_types: [], redirect_uris: [] });
  });

  it("gives a CIBA client the poll mode unless it asks for ping", () => {
    const [client] = clientsOf([{ ...webApp, grant_types: ["authorization_code", CIBA] }]);
    expect(client?.backchannel_token_delivery_mode).toBe("poll");
    expect(clientsOf([webApp])[0]).not.toHaveProperty("backchannel_token_delivery_mode");
  });

  it("refuses a file that is not an array of objects", () => {
    expect(problemsOf({ clients: [] })).toEqual(["expects a JSON array of clients, got an object"]);
    expect(problemsOf(null)).toEqual(["expects a JSON array of clients, got null"]);
    expect(problemsOf([webApp, "notes"])).toEqual(["client #2: expects an object"]);
  });

  it("refuses unknown fields, so a misspelt one is not silently ignored", () => {
    expect(problemsWith({ redirect_uri: "https://notes.example.com/cb" })).toEqual([
      'client "notes": unknown field "redirect_uri"',
    ]);
  });

  it("names the client and the field of a missing or mistyped value", () => {
    expect(problemsOf([{ client_name: "No id", client_secret: SECRET, redirect_uris: [] }])).toEqual([
      "client #1: client_id: is required",
    ]);
    expect(problemsWith({ client_name: undefined })).toEqual(['client "notes": client_name: is required']);
    expect(problemsWith({ client_id: "has space" })).toEqual([
      'client "has space": client_id: expects 1–100 letters, digits and . _ ~ - only',
    ]);
    expect(problemsWith({ first_party: "yes" })).toEqual(['client "notes": first_party: expects true or false']);
    expect(problemsWith({ redirect_uris: "https://notes.example.com/cb" })).toEqual([
      'client "notes": redirect_uris: expects an array',
    ]);
  });

  it("refuses an unknown grant, naming it", () => {
    expect(problemsWith({ grant_types: ["authorization_code", "implicit"] })).toEqual([
      `client "notes": grant_types[1]: expects one of authorization_code, refresh_token, ${DEVICE}, ${CIBA}, got "implicit"`,
    ]);
    expect(problemsWith({ grant_types: ["client_credentials"] })).toHaveLength(1);
    expect(problemsWith({ grant_types: [] })).toEqual(['client "notes": grant_types: expects at least one grant']);
  });

  it("refuses refresh_token as the only grant: nothing would ever issue one", () => {
    expect(problemsWith({ grant_types: ["refresh_token"] })).toEqual([
      'client "notes": grant_types: refresh_token needs a grant that signs someone in (authorization_code, device_code or CIBA)',
    ]);
  });

  it("refuses redirect URIs that are relative, carry a fragment, or use http off this machine", () => {
    expect(
      problemsWith({
        redirect_uris: [
          "/callback",
          "https://notes.example.com/callback#done",
          "http://notes.example.com/callback",
          "http://10.0.0.5/callback",
          "com.example.notes:/callback",
          "javascript:alert(1)",
        ],
      }),
    ).toEqual([
      'client "notes": redirect_uris[0]: expects an absolute URL, got "/callback"',
      'client "notes": redirect_uris[1]: expects no fragment (#…), got "https://notes.example.com/callback#done"',
      'client "notes": redirect_uris[2]: expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "http://notes.example.com/callback"',
      'client "notes": redirect_uris[3]: expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "http://10.0.0.5/callback"',
      'client "notes": redirect_uris[4]: expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "com.example.notes:/callback"',
      'client "notes": redirect_uris[5]: expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "javascript:alert(1)"',
    ]);
    // An empty fragment is a fragment too.
    expect(problemsWith({ redirect_uris: ["https://notes.example.com/cb#"] })).toHaveLength(1);
    // A host that only starts like a loopback name is not one.
    expect(problemsWith({ redirect_uris: ["http://localhost.evil.example/cb"] })).toHaveLength(1);
  });

  it("holds post-logout, logo and client URIs to the same rules", () => {
    expect(
      problemsWith({
        post_logout_redirect_uris: ["http://notes.example.com/"],
        logo_uri: "notes.png",
        client_uri: "https://notes.example.com/#top",
      }),
    ).toEqual([
      'client "notes": post_logout_redirect_uris[0]: expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "http://notes.example.com/"',
      'client "notes": logo_uri: expects an absolute URL, got "notes.png"',
      'client "notes": client_uri: expects no fragment (#…), got "https://notes.example.com/#top"',
    ]);
  });

  it("needs at least one redirect URI for the authorization code grant", () => {
    expect(problemsWith({ redirect_uris: [] })).toEqual([
      'client "notes": redirect_uris: expects at least one URL for the authorization_code grant',
    ]);
    expect(problemsWith({ redirect_uris: undefined })).toHaveLength(1);
  });

  it("refuses response types that contradict the grants", () => {
    expect(problemsWith({ response_types: [] })).toEqual([
      'client "notes": response_types: expects ["code"] with the authorization_code grant',
    ]);
    expect(problemsWith({ grant_types: [DEVICE], response_types: ["code"] })).toEqual([
      'client "notes": response_types: expects [] (or no response_types) without the authorization_code grant',
    ]);
    expect(problemsWith({ response_types: ["code id_token"] })).toEqual([
      'client "notes": response_types[0]: expects only "code"',
    ]);
  });

  it("needs a secret of at least 32 characters for a confidential client, and never repeats it", () => {
    expect(problemsWith({ client_secret: undefined })).toEqual([
      'client "notes": client_secret: is required for a confidential client (at least 32 characters); a public client sets token_endpoint_auth_method to "none" instead',
    ]);
    const short = "short-secret-31-characters-long";
    const problems = problemsWith({ client_secret: short });
    expect(problems).toEqual(['client "notes": client_secret: expects at least 32 characters, got 31']);
    expect(problemsWith({ client_secret: SECRET.replace("-", " ") })).toEqual([
      'client "notes": client_secret: expects printable ASCII characters only, without spaces',
    ]);
    expect(problemsWith({ client_secret: 42 })).toEqual(['client "notes": client_secret: expects a string']);
    expect(problems.join("\n")).not.toContain(short);
    // Exactly 32 is enough.
    expect(clientsOf([{ ...webApp, client_secret: "x".repeat(32) }])).toHaveLength(1);
  });

  it("refuses a public client that also has a secret", () => {
    expect(problemsWith({ token_endpoint_auth_method: "none" })).toEqual([
      'client "notes": client_secret: a public client (token_endpoint_auth_method "none") has no secret; remove one of the two',
    ]);
  });

  it("refuses CIBA to a public client, which oidc-provider itself would accept", () => {
    const problems = problemsWith({
      client_secret: undefined,
      token_endpoint_auth_method: "none",
      grant_types: [CIBA],
    });
    expect(problems).toEqual([
      `client "notes": grant_types: a public client (token_endpoint_auth_method "none") may not use CIBA (${CIBA}); make it confidential, with a client_secret`,
    ]);
  });

  it("needs an https notification endpoint in ping mode, and none otherwise", () => {
    const ciba = { grant_types: [CIBA], redirect_uris: undefined };
    expect(problemsWith({ ...ciba, backchannel_token_delivery_mode: "ping" })).toEqual([
      'client "notes": backchannel_client_notification_endpoint: is required when backchannel_token_delivery_mode is "ping"',
    ]);
    expect(
      problemsWith({
        ...ciba,
        backchannel_token_delivery_mode: "ping",
        backchannel_client_notification_endpoint: "http://localhost:4000/ciba",
      }),
    ).toEqual([
      'client "notes": backchannel_client_notification_endpoint: expects an https URL, got "http://localhost:4000/ciba"',
    ]);
    expect(
      problemsWith({ ...ciba, backchannel_client_notification_endpoint: "https://notes.example.com/ciba" }),
    ).toEqual([
      'client "notes": backchannel_client_notification_endpoint: only used when backchannel_token_delivery_mode is "ping"',
    ]);
    expect(problemsWith({ ...ciba, backchannel_token_delivery_mode: "push" })).toEqual([
      'client "notes": backchannel_token_delivery_mode: expects "poll" or "ping", got "push"',
    ]);
  });

  it("refuses CIBA settings on a client without the CIBA grant", () => {
    expect(problemsWith({ backchannel_token_delivery_mode: "poll" })).toEqual([
      `client "notes": backchannel_token_delivery_mode: only for a client with the CIBA grant (${CIBA})`,
    ]);
  });

  it("gives oidc-provider only clients it accepts, first_party included", async () => {
    const clients = clientsOf([
      {
        ...webApp,
        grant_types: ["authorization_code", "refresh_token", DEVICE, CIBA],
        post_logout_redirect_uris: ["https://notes.example.com/"],
        logo_uri: "https://notes.example.com/logo.png",
        first_party: true,
        backchannel_token_delivery_mode: "ping",
        backchannel_client_notification_endpoint: "https://notes.example.com/ciba",
      },
      {
        client_id: "tv",
        client_name: "TV",
        token_endpoint_auth_method: "none",
        grant_types: [DEVICE, "refresh_token"],
      },
      { client_id: "cli", client_name: "CLI", token_endpoint_auth_method: "none", redirect_uris: ["http://[::1]/cb"] },
    ]);
    expect(await providerAccepts(clients)).toEqual([true, true, true]);
  });

  it("refuses the public CIBA client that oidc-provider would take", async () => {
    const publicCiba = {
      client_id: "cli",
      client_name: "CLI",
      token_endpoint_auth_method: "none",
      grant_types: [CIBA],
    };
    const asTheLibraryTakesIt: ClientMetadata = {
      ...publicCiba,
      token_endpoint_auth_method: "none",
      response_types: [],
      backchannel_token_delivery_mode: "poll",
    };
    expect(await providerAccepts([asTheLibraryTakesIt])).toEqual([true]);
    expect(problemsOf([publicCiba])).toEqual([expect.stringContaining("may not use CIBA")]);
  });

  it("refuses a client_id used twice, naming both", () => {
    expect(problemsOf([webApp, { ...webApp, client_name: "Other" }, { ...webApp, client_id: "other" }])).toEqual([
      'client "notes" (#2): client_id: is already the id of client #1',
    ]);
  });

  it("lists every problem of every client at once", () => {
    const problems = problemsOf([
      { ...webApp, client_secret: "short" },
      { client_id: "cli", client_name: "CLI", token_endpoint_auth_method: "none", grant_types: [CIBA] },
      { ...webApp, client_id: "other", redirect_uris: ["http://example.com/"] },
    ]);
    expect(problems).toHaveLength(3);
    expect(problems.map((problem) => problem.split(":")[0])).toEqual([
      'client "notes"',
      'client "cli"',
      'client "other"',
    ]);
  });
});
