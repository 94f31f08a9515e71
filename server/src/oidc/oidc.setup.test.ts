import { describe, expect, it } from "vitest";
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

  it("runs clients of every grant: code, device and CIBA", async () => {
    const clock = createFakeClock();
    const deployment = createMemoryDeployment({ clock, random: cryptoRandom });
    const tv = {
      client_id: "notes-tv",
      client_name: "Notes on the TV",
      token_endpoint_auth_method: "none",
      grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
    };
    const callCentre = {
      client_id: "call-centre",
      client_name: "Call centre",
      client_secret: "another-long-enough-secret-for-a-ciba-client-0123",
      grant_types: ["urn:openid:params:grant-type:ciba"],
    };
    const setup = await prepareOidc({
      deployment,
      random: cryptoRandom,
      clock,
      clients: clients([WEB_APP, tv, callCentre]),
    });
    expect(setup.clients.map((client) => client.client_id)).toEqual(["notes", "notes-tv", "call-centre"]);
  });
});
