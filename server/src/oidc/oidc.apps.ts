import type { OidcAppView } from "@countersign/shared";
import { z } from "zod";
import { AppError } from "../app-error.js";
import { validateStored } from "../store/store.schemas.js";
import type { OidcListedRecord, OidcStorage } from "./oidc.adapter.js";
import type { OidcClient } from "./oidc.clients.js";

/**
 * "Apps you signed in to" (issue 12): the apps a person has let use their account, read from
 * the provider's Grants, and "Remove access", which ends everything an app holds. The library
 * has no lookup by account, so this reads the storage the provider writes (oidc.adapter.ts).
 */
export interface OidcAppsService {
  /** One entry per app, its grants merged, by name; an app no longer configured is left out. */
  listApps(options: { userId: string }): Promise<OidcAppView[]>;
  /**
   * Revokes every grant of the person's for this app, with every token, code and pending request
   * issued under them: its refresh tokens stop working at once, its access tokens are refused,
   * and its next sign-in asks for consent again. NOT_FOUND if the app has no grant of theirs.
   */
  removeApp(options: { userId: string; clientId: string }): Promise<void>;
}

const GRANT_MODEL = "Grant";

/** What is read of a Grant the library saved (lib/models/grant.js): the rest is left alone. */
const scopesSchema = z.object({ scope: z.string().optional() }).optional();
const grantSchema = z.object({
  accountId: z.string(),
  clientId: z.string(),
  /** Seconds since the epoch; kept across saves. */
  iat: z.number(),
  openid: scopesSchema,
  resources: z.record(z.string(), z.string()).optional(),
  rejected: z.object({ openid: scopesSchema, resources: z.record(z.string(), z.string()).optional() }).optional(),
});
type StoredGrant = z.infer<typeof grantSchema> & { id: string };

/**
 * @param deps.storage the provider's storage (the deployment's oidcStorage).
 * @param deps.clients the configured apps; empty when the provider is off, and then the list is too.
 */
export function createOidcAppsService(deps: {
  storage: Pick<OidcStorage, "listByAccount" | "revokeByGrantId" | "destroy">;
  clients: readonly OidcClient[];
}): OidcAppsService {
  const { storage } = deps;
  const clients = new Map(deps.clients.map((client) => [client.client_id, client]));

  /** The person's live grants, of configured apps only. */
  async function grantsOf(userId: string): Promise<StoredGrant[]> {
    if (clients.size === 0) return [];
    const records = await storage.listByAccount({ model: GRANT_MODEL, accountId: userId });
    return records.map(readGrant).filter((grant) => grant.accountId === userId && clients.has(grant.clientId));
  }

  return {
    async listApps({ userId }) {
      const byClient = new Map<string, StoredGrant[]>();
      for (const grant of await grantsOf(userId)) {
        byClient.set(grant.clientId, [...(byClient.get(grant.clientId) ?? []), grant]);
      }
      const apps = [...byClient].map(([clientId, grants]): OidcAppView => {
        const client = clients.get(clientId)!;
        return {
          clientId,
          name: client.client_name,
          logoUri: client.logo_uri ?? null,
          clientUri: client.client_uri ?? null,
          scopes: [...new Set(grants.flatMap(grantedScopes))],
          grantedAt: Math.min(...grants.map((grant) => grant.iat)) * 1000,
        };
      });
      return apps.sort((a, b) => a.name.localeCompare(b.name) || a.clientId.localeCompare(b.clientId));
    },

    async removeApp({ userId, clientId }) {
      const grants = (await grantsOf(userId)).filter((grant) => grant.clientId === clientId);
      if (grants.length === 0) throw new AppError("NOT_FOUND", "No such app has access to your account.");
      // The tokens first, then the Grant: if this stops half-way the Grant is still listed and
      // "Remove access" can be tried again. A token issued in between (a refresh racing this) is
      // refused anyway once its Grant is gone: the library checks the Grant wherever one is used.
      await Promise.all(
        grants.map(async (grant) => {
          await storage.revokeByGrantId(grant.id);
          await storage.destroy({ model: GRANT_MODEL, id: grant.id });
        }),
      );
    },
  };
}

function readGrant(record: OidcListedRecord): StoredGrant {
  return { id: record.id, ...validateStored(grantSchema, record.payload, `OpenID Grant ${record.id}`) };
}

/** The scopes a grant gives, less those the person refused (as Grant#getOIDCScope and getResourceScope). */
function grantedScopes(grant: StoredGrant): string[] {
  const words = (scope: string | undefined): string[] => (scope ?? "").split(" ").filter((word) => word !== "");
  // openid is never refused on its own: refusing it refuses the whole sign-in.
  const refused = new Set(words(grant.rejected?.openid?.scope).filter((scope) => scope !== "openid"));
  const granted = words(grant.openid?.scope).filter((scope) => !refused.has(scope));
  for (const [resource, scope] of Object.entries(grant.resources ?? {})) {
    const refusedHere = new Set(words(grant.rejected?.resources?.[resource]));
    granted.push(...words(scope).filter((word) => !refusedHere.has(word)));
  }
  return granted;
}
