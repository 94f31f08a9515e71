import Provider, { errors, interactionPolicy, type Adapter, type Configuration, type JWK } from "oidc-provider";
import { DEVICE_USER_CODE_MASK, INTERACTION_PATHS, usernameSchema } from "@countersign/shared";
import { describeClient } from "../context/client-context.js";
import type { GeoLocator } from "../context/geo.js";
import { UNKNOWN_TARGET_PREFIX, type PushLoginService } from "../push-login/push-login.service.js";
import { expiredSessionCookie, readSessionToken } from "../session/session.cookies.js";
import type { SessionService } from "../session/session.service.js";
import type { Store } from "../store/store.js";
import type { Clock } from "../clock.js";
import { expiresAtFor, linkedLoginId } from "./oidc.async-grants.js";
import { COUNTERSIGN_ACR } from "./oidc.claims.js";
import { OIDC_EXTRA_CLIENT_METADATA, type OidcClient } from "./oidc.clients.js";
import { notificationFetch } from "./oidc.notifications.js";

/** Where the provider lives under PUBLIC_ORIGIN; the issuer is `<origin>/oidc`. */
export const OIDC_MOUNT_PATH = "/oidc";

export { COUNTERSIGN_ACR };

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
  /** CIBA requests go to the person's phones through the push path. */
  push: Pick<PushLoginService, "targetFor" | "createAppPush">;
  /** Derives the login request of a device code or CIBA request; every process shares it. */
  sharedKey: Uint8Array;
  clock: Clock;
  /** How long a CIBA request waits for the phone: a push request's lifetime. */
  loginTtlSeconds: number;
  /** Development only: CIBA pings may go to this machine's loopback (oidc.notifications.ts). */
  loopbackNotifications: boolean;
  /** Behind a reverse proxy: the provider reads the client's protocol and host from it. */
  trustProxy: boolean;
  /** Names the place a device asks from (device grant), for the phone to compare. */
  geo: GeoLocator;
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
      if (grantId !== undefined) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        // Gone after "Remove access" on the phone: a first-party app gets a new one below.
        if (grant !== undefined) return grant;
      }
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
    async findAccount(ctx, sub) {
      if (sub.startsWith(UNKNOWN_TARGET_PREFIX)) {
        // An unknown name's stand-in, only while a CIBA request is made: the app hears the same
        // as for a real person (no enumeration), and the request simply never gets approved.
        return ctx.oidc?.route === "backchannel_authentication"
          ? { accountId: sub, claims: () => ({ sub }) }
          : undefined;
      }
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
    // The code flow only: no implicit or hybrid responses are offered or advertised.
    responseTypes: ["code"],
    // RFC 6749 §4.1.3: the token request repeats the redirect_uri, even for a client with one.
    allowOmittingSingleRegisteredRedirectUri: false,
    // Outgoing calls (CIBA pings) go through the library's SSRF guard, see oidc.notifications.ts.
    fetch: notificationFetch({ loopback: options.loopbackNotifications }),
    features: {
      devInteractions: { enabled: false },
      // RFC 8628. Its verification page (/oidc/device) is the approver app on the phone
      // (oidc.device.routes.ts), which approves through our API, so the library's pages never show.
      deviceFlow: {
        enabled: true,
        charset: "base-20",
        mask: DEVICE_USER_CODE_MASK,
        // Kept on the device code, shown to the phone: where the device asked from.
        deviceInfo: (ctx) =>
          describeClient({
            userAgent: ctx.get("user-agent"),
            ip: (ctx.req as { ip?: string }).ip ?? ctx.ip,
            geo: options.geo,
          }),
      },
      ciba: {
        enabled: true,
        deliveryModes: ["poll", "ping"],
        // login_hint is the username. An unknown one gets a stand-in (see findAccount and
        // push-login.service.ts), so the app cannot tell who has an account.
        async processLoginHint(_ctx, loginHint) {
          const username = usernameSchema.safeParse(loginHint);
          if (!username.success) throw new errors.InvalidRequest("login_hint must be a username");
          return options.push.targetFor(username.data);
        },
        processLoginHintToken() {
          throw new errors.InvalidRequest("login_hint_token is not supported; send the username as login_hint");
        },
        async validateBindingMessage(_ctx, bindingMessage) {
          if (bindingMessage === undefined) return;
          // Shown to the person on the phone to compare with the app's screen: short, plain text.
          if (!/^[\p{L}\p{N} .,:!?#+/-]{1,40}$/u.test(bindingMessage)) {
            throw new errors.InvalidBindingMessage(
              "binding_message must be 1–40 letters, digits, spaces or . , : ! ? # + / -",
            );
          }
        },
        async validateRequestContext() {},
        async verifyUserCode(_ctx, _account, userCode) {
          if (userCode !== undefined) throw new errors.InvalidRequest("user_code is not supported");
        },
        async triggerAuthenticationDevice(ctx, request, account, client) {
          const link = { kind: "ciba", id: request.jti! } as const;
          await options.push.createAppPush({
            target: account.accountId,
            source: `app:${client.clientId}`,
            id: linkedLoginId({ key: options.sharedKey, link }),
            // The app's server, not where the person is: no place named (and no verdict, see
            // judgeRequestProximity), so the phone is not told a data centre's city.
            desktop: describeClient({
              userAgent: ctx.get("user-agent"),
              ip: (ctx.req as { ip?: string }).ip ?? ctx.ip,
            }),
            app: {
              name: client.clientName ?? client.clientId,
              via: "backchannel",
              bindingMessage:
                typeof request.params?.binding_message === "string" ? request.params.binding_message : null,
            },
            oidc: link,
            expiresAt: expiresAtFor({ clock: options.clock, remainingSeconds: request.remainingTTL }),
          });
        },
      },
      revocation: {
        enabled: true,
        // An app revokes only its own tokens. Another confidential app is told no; a public
        // one (anyone can claim its id) hears the usual 200 and nothing happens (RFC 7009 §2.2).
        async allowedPolicy(_ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === "none") return false;
          throw new errors.InvalidRequest("client is not authorized to revoke the presented token");
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // Our own pages: the library's load a web font and inline styles, which our CSP refuses.
        async logoutSource(ctx, form) {
          ctx.type = "html";
          // The form posts here and is redirected to the app's post_logout_redirect_uri (checked
          // against the client's list by now); browsers hold redirects to form-action too.
          const target = ctx.oidc.params?.post_logout_redirect_uri;
          const policy = ctx.response.get("Content-Security-Policy");
          if (typeof target === "string" && policy !== "") {
            ctx.set(
              "Content-Security-Policy",
              policy.replace("form-action 'self'", `form-action 'self' ${new URL(target).origin}`),
            );
          }
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
    ttl: {
      ...TTL_SECONDS,
      // A CIBA request waits as long as a push request (requested_expiry may only shorten it).
      BackchannelAuthenticationRequest: (ctx) => {
        const requested = Number(ctx?.oidc?.params?.requested_expiry);
        return Number.isSafeInteger(requested) && requested > 0
          ? Math.min(requested, options.loginTtlSeconds)
          : options.loginTtlSeconds;
      },
    },
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
