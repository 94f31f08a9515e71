/**
 * The push services browsers subscribe with (Chrome and Edge's FCM, Firefox's autopush, Windows'
 * WNS, Safari's APNs web push). A subscription's endpoint is a URL the phone hands us and the
 * server then POSTs to: anything else would let a signed-in caller make the server send requests
 * wherever it likes (request forgery), so only these hosts and their subdomains are sent to.
 */
export const PUSH_SERVICE_HOSTS: readonly string[] = [
  "fcm.googleapis.com",
  "android.googleapis.com",
  "updates.push.services.mozilla.com",
  "push.services.mozilla.com",
  "notify.windows.com",
  "push.apple.com",
];

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export type PushEndpointVerdict =
  | {
      allowed: true;
      /** A development endpoint on this machine (self-signed): its certificate is not checked. */
      loopback: boolean;
    }
  | { allowed: false; reason: string };

/**
 * Whether the server may send to `endpoint`: https, no credentials, the default port, and a
 * known push service's host (matched on a dot boundary, so `evilfcm.googleapis.com.example`
 * and `notfcm.googleapis.com` are refused). With `allowLoopback` (WEB_PUSH_DEV_LOOPBACK,
 * development and tests only), https on this machine's loopback is allowed too, on any port.
 * `reason` names what was wrong, never the URL itself (it is a capability).
 */
export function judgePushEndpoint(options: { endpoint: string; allowLoopback: boolean }): PushEndpointVerdict {
  let url: URL;
  try {
    url = new URL(options.endpoint);
  } catch {
    return { allowed: false, reason: "expects a URL" };
  }
  if (url.protocol !== "https:") return { allowed: false, reason: "expects an https:// URL" };
  if (url.username !== "" || url.password !== "") {
    return { allowed: false, reason: "expects no user name or password in the URL" };
  }
  const host = url.hostname.toLowerCase();
  if (options.allowLoopback && LOOPBACK_HOSTS.has(host)) return { allowed: true, loopback: true };
  // URL drops a default port (443) to "", so anything else was a port named on purpose.
  if (url.port !== "") return { allowed: false, reason: "expects the push service's default port" };
  const known = PUSH_SERVICE_HOSTS.some((service) => host === service || host.endsWith(`.${service}`));
  if (!known) return { allowed: false, reason: "expects the URL of a known browser push service" };
  return { allowed: true, loopback: false };
}
