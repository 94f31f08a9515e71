import type { RequestHandler } from "express";
import type Provider from "oidc-provider";

/**
 * The provider as Express middleware, to mount at OIDC_MOUNT_PATH.
 *
 * The provider reads request bodies itself, and stops reading one as soon as it knows the body
 * is too large (over 56 KiB), answering invalid_request. The rest of that body is then never
 * read: Node discards a body nobody started reading, but not one left half-read, so the
 * keep-alive connection would stall on the unread bytes until its keep-alive timeout resets it,
 * taking the client's next request on it down too. Once the answer is sent, whatever is left of
 * the body is read and dropped (as body-parser and Node itself do), and the connection serves the
 * next request.
 */
export function serveOidcProvider(provider: Provider): RequestHandler {
  const callback = provider.callback();
  return (req, res) => {
    res.once("finish", () => {
      if (!req.complete) req.resume();
    });
    void callback(req, res);
  };
}
