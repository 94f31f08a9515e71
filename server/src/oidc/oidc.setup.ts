import type { Clock } from "../clock.js";
import type { Deployment } from "../deployment.js";
import { createOidcAdapterFactory } from "./oidc.adapter.js";
import type { Random } from "../random.js";
import type { OidcClient } from "./oidc.clients.js";

import { loadCookieKeys, loadSigningKeys } from "./oidc.keys.js";
import type { OidcProviderOptions } from "./oidc.provider.js";

/** What the provider needs that must be read from the deployment first (and so is async). */
export type OidcSetup = Pick<OidcProviderOptions, "clients" | "signingKeys" | "cookieKeys" | "adapter">;

/**
 * Loads (or, on a first start, makes) the keys every process shares, and pairs them with the
 * clients and the storage. main.ts and the tests call it before createApp, which stays sync.
 */
export async function prepareOidc(options: {
  deployment: Deployment;
  random: Random;
  clock: Clock;
  clients: OidcClient[];
}): Promise<OidcSetup> {
  const [{ keys }, cookieKeys] = await Promise.all([
    loadSigningKeys(options.deployment),
    loadCookieKeys(options.deployment, options.random),
  ]);
  return {
    clients: options.clients,
    signingKeys: keys,
    cookieKeys,
    adapter: createOidcAdapterFactory({ storage: options.deployment.oidcStorage, clock: options.clock }),
  };
}
