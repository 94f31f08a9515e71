import type Provider from "oidc-provider";

/**
 * RFC 6749 §5.2: a client asking the token endpoint for a grant type the provider offers but the
 * client is not registered for hears `unauthorized_client`. oidc-provider 9 answers
 * `invalid_request` ("requested grant type is not allowed for this client"); this renames the
 * code in exactly that case, told by the request, not the message: an authenticated client, one
 * grant_type, not among the client's. Every other answer passes unchanged.
 */
export function answerUnauthorizedClient(deps: { provider: Provider }): void {
  deps.provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== "token") return;
    const body = ctx.body as { error?: unknown } | undefined;
    if (body?.error !== "invalid_request") return;
    const grantType = ctx.oidc.params?.grant_type;
    const client = ctx.oidc.client;
    if (typeof grantType !== "string" || client === undefined || client.grantTypeAllowed(grantType)) return;
    ctx.body = { ...body, error: "unauthorized_client" };
  });
}
