import { describe, expect, it } from "vitest";
import { ConfigError } from "../config.js";
import { cryptoRandom } from "../random.js";
import { createMemoryDeployment } from "../store/memory.deployment.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { parseOidcClients, type OidcClient } from "./oidc.clients.js";
import { prepareOidc } from "./oidc.setup.js";

function clients(input: unknown[]): OidcClient[] {
  const parsed = parseOidcClients(input);
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  return parsed.clients;
}

const WEB_APP = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
  redirect_uris: ["https://notes.example.com/callback"],
};

describe("prepareOidc", () => {
  it("gives every process of a deployment the same signing and cookie keys", async () => {
    const clock = createFakeClock();
    const deployment = createMemoryDeployment({ clock, random: cryptoRandom });
    const options = { deployment, random: cryptoRandom, clock, clients: clients([WEB_APP]) };
    const [first, second] = await Promise.all([prepareOidc(options), prepareOidc(options)]);
    expect(second.signingKeys).toEqual(first.signingKeys);
    expect(second.cookieKeys).toEqual(first.cookieKeys);
    expect(first.clients.map((client) => client.client_id)).toEqual(["notes"]);
  });

  it("refuses at start-up a client whose grant the provider does not run yet", async () => {
    const clock = createFakeClock();
    const deployment = createMemoryDeployment({ clock, random: cryptoRandom });
    const tv = {
      client_id: "notes-tv",
      client_name: "Notes on the TV",
      token_endpoint_auth_method: "none",
      grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
    };
    const refused = await prepareOidc({
      deployment,
      random: cryptoRandom,
      clock,
      clients: clients([WEB_APP, tv]),
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toEqual([
      'OIDC_CLIENTS_FILE: client "notes-tv": grant urn:ietf:params:oauth:grant-type:device_code is not available yet',
    ]);
  });
});
