import { Agent, fetch as undiciFetch } from "undici";

/**
 * How the provider calls out (CIBA ping notifications to a client's endpoint). oidc-provider
 * requires an https endpoint and passes every outgoing request a dispatcher that refuses to
 * connect to loopback, private and other special-use addresses (its SSRF guard,
 * lib/helpers/fetch_request.js).
 *
 * For development and tests only (OIDC_DEV_LOOPBACK_NOTIFICATIONS), `loopback` lets a ping reach
 * an https endpoint on this machine's own loopback (localhost, 127.0.0.1, [::1]), where a client
 * under development listens with a self-signed certificate: for those hosts alone the guard is
 * replaced by a dispatcher that connects there and does not check the certificate. Every other
 * address keeps the library's guard, in either mode.
 */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

type Fetch = (url: string | URL | Request, options?: RequestInit) => Promise<Response>;

export function notificationFetch(options: { loopback: boolean }): Fetch {
  let loopbackDispatcher: Agent | undefined;
  return (url, init) => {
    const href = url instanceof Request ? url.url : String(url);
    if (options.loopback && LOOPBACK_HOSTS.has(new URL(href).hostname)) {
      loopbackDispatcher ??= new Agent({ connect: { rejectUnauthorized: false } });
      const { dispatcher: _guard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return undiciFetch(href, {
        ...(rest as Parameters<typeof undiciFetch>[1]),
        dispatcher: loopbackDispatcher,
      }) as unknown as Promise<Response>;
    }
    return globalThis.fetch(url, init);
  };
}
