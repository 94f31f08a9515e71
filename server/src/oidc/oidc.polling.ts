import type Provider from "oidc-provider";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { hashSecret } from "../tokens.js";

/**
 * `slow_down` for the two polled grants: RFC 8628 §3.5 (device code) and CIBA §11 (poll mode)
 * ask the provider to answer it to a client polling faster than the interval (5 s by default,
 * as neither response names another). oidc-provider answers only `authorization_pending`, so
 * this turns a pending answer into `slow_down` when the same device code or auth_req_id was
 * already polled within the interval. Only pending answers change: once the request is decided,
 * a fast poll still gets its tokens or its error. Counted in the shared rate limits, so it holds
 * across processes.
 */
export function answerSlowPolls(deps: { provider: Provider; rateLimits: RateLimits }): void {
  deps.provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== "token") return;
    const body = ctx.body as { error?: unknown } | undefined;
    if (body?.error !== "authorization_pending") return;
    const params = ctx.oidc.params as Record<string, unknown> | undefined;
    const polled = params?.device_code ?? params?.auth_req_id;
    if (typeof polled !== "string") return;
    // Hashed: the key is a bearer secret and the limits' store is not the place for it.
    const key = hashSecret(polled);
    if (await deps.rateLimits.tryConsume({ action: "pollAsyncGrant", key })) return;
    ctx.body = {
      error: "slow_down",
      error_description: "you are polling too quickly; wait 5 more seconds between polls",
    };
  });
}
