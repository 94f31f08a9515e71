import Provider, { interactionPolicy, type Adapter, type Configuration, type JWK } from "oidc-provider";
import { INTERACTION_PATHS } from "@countersign/shared";
import { expiredSessionCookie, readSessionToken } from "../session/session.cookies.js";
import type { SessionService } from "../session/session.service.js";
import type { Store } from "../store/store.js";
import { OIDC_EXTRA_CLIENT_METADATA, type OidcClient } from "./oidc.clients.js";

/** Where the provider lives under PUBLIC_ORIGIN; the issuer is `<origin>/oidc`. */
export const OIDC_MOUNT_PATH = "/oidc";

/**
 * The `acr` value of every Countersign sign-in: a passkey with user verification, on the phone or
 * this device. Documented in the README; clients may require it with `acr_values`.
 */
export const COUNTERSIGN_ACR = "urn:countersign:passkey";

/** Lifetimes, all set explicitly (the library's defaults are placeholders it warns about). */
const TTL_SECONDS = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  IdToken: 10 * 60,
  Interaction: 10 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 365 * 24 * 60 * 60,
  DeviceCode: 10 * 60,
  BackchannelAuthenticationRequest: 10 * 60,
  ClientCredentials: 10 * 60,
} as const;

export interface OidcProviderOptions {
  /** PUBLIC_ORIGIN; the issuer is this plus OIDC_MOUNT_PATH. */
  origin: string;
  clients: OidcClient[];
  /** Private signing keys, the same on every process. */
  signingKeys: JWK[];
  /** Secrets that sign the provider's cookies, the same on every process. */
  cookieKeys: string[];
  /** Builds the storage for one model (oidc-provider's adapter contract). */
  adapter: new (name: string) => Adapter;
  store: Store;
  sessions: SessionService;
  /** Behind a reverse proxy: the provider reads the client's protocol and host from it. */
  trustProxy: boolean;
  secureCookies: boolean;
  /** Where a failure with no request to answer goes (the logger). */
  onError: (error: unknown) => void;
}

/**
 * oidc-provider configured for Countersign (DESIGN §10). The library owns the protocol; this is
 * the glue: accounts from our store, our storage, our keys and clients, and interactions that
 * send the browser to the desktop page.
 */
export function createOidcProvider(options: OidcProviderOptions): Provider {
  const configuration: Configuration = {
    adapter: options.adapter,
    clients: options.clients,
    extraClientMetadata: { properties: [...OIDC_EXTRA_CLIENT_METADATA] },
    // The operator's own apps (first_party in the clients file) ask for no consent.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId !== undefined) return ctx.oidc.provider.Grant.find(grantId);
      const { client, session } = ctx.oidc;
      if (client?.metadata().first_party !== true || session?.accountId === undefined) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(String(ctx.oidc.params?.scope ?? "openid"));
      await grant.save();
      return grant;
    },
    jwks: { keys: options.signingKeys },
    cookies: {
      keys: options.cookieKeys,
      long: { signed: true, secure: options.secureCookies, sameSite: "lax" },
      short: { signed: true, secure: options.secureCookies, sameSite: "lax" },
    },
    // `sub` is the account's id: stable, and not the username, which a person could change.
    async findAccount(_ctx, sub) {
      const user = await options.store.getUser(sub);
      if (user === null) return undefined;
      return {
        accountId: user.id,
        claims: () => ({ sub: user.id, preferred_username: user.username, name: user.displayName }),
      };
    },
    claims: {
      openid: ["sub", "acr", "amr", "auth_time"],
      profile: ["name", "preferred_username"],
    },
    scopes: ["openid", "profile", "offline_access"],
    acrValues: [COUNTERSIGN_ACR],
    // Public clients must use PKCE (S256 only); confidential ones too: there is no reason not to.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Our own pages: the library's load a web font and inline styles, which our CSP refuses.
        async logoutSource(ctx, form) {
          ctx.type = "html";
          ctx.body = page({
            title: "Sign out",
            body: `<h1>Sign out of Countersign on this browser?</h1>${form}
<p><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, only from this app</button></p>`,
          });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = "html";
          ctx.body = page({ title: "Signed out", body: "<h1>Signed out</h1><p>You can close this page.</p>" });
        },
      },
    },
    interactions: {
      policy: countersignPolicy(options),
      // The desktop page, in its "sign in to an app" mode.
      url: (_ctx, interaction) => INTERACTION_PATHS.page(interaction.uid),
    },
    // Refresh tokens only for clients that asked for offline_access and may use them.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
    ttl: { ...TTL_SECONDS },
    // Errors in the browser flows are shown as a plain page, with nothing from the request echoed.
    async renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = page({
        title: "Sign-in error",
        body: `<h1>Sign-in error</h1><p>${escapeHtml(String(out.error))}: ${escapeHtml(
          String(out.error_description ?? ""),
        )}</p>`,
      });
    },
  };
  const provider = new Provider(`${options.origin}${OIDC_MOUNT_PATH}`, configuration);
  provider.proxy = options.trustProxy;
  // The provider's session is the Countersign session: "Yes, sign me out" at an app's logout ends
  // this browser's Countersign session too. The cookie goes in this response, so the browser
  // cannot use the token again even before the store has deleted it.
  provider.on("end_session.success", (ctx) => {
    if (ctx.oidc.params?.logout === undefined) return;
    const token = readSessionToken(ctx.get("cookie"), { kind: "desktop", secure: options.secureCookies });
    if (token === null) return;
    ctx.append("Set-Cookie", expiredSessionCookie({ secure: options.secureCookies }));
    options.sessions.endSession({ token, kind: "desktop" }).catch((error: unknown) => {
      options.onError(error);
    });
  });
  return provider;
}

/**
 * The library's prompts, with one more reason to ask for a login: the provider's session is only
 * as good as the Countersign session of this browser. Signed out of Countersign (or revoked from
 * the phone), the next app sign-in asks for a fresh one instead of riding the provider's cookie.
 */
function countersignPolicy(options: OidcProviderOptions): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  policy.get("login")!.checks.add(
    new interactionPolicy.Check(
      "countersign_session_ended",
      "The Countersign session on this browser has ended",
      async (ctx) => {
        const token = readSessionToken(ctx.get("cookie"), { kind: "desktop", secure: options.secureCookies });
        const session = await options.sessions.findSession({ token, kind: "desktop" });
        const accountId = ctx.oidc.session?.accountId;
        if (accountId === undefined) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        return session?.userId === accountId
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT;
      },
    ),
  );
  return policy;
}

/** A plain page in the provider's own flows; no inline style or script, so the CSP holds. */
function page(options: { title: string; body: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${options.title}</title></head><body>${options.body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
