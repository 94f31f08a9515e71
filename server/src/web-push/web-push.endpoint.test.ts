import { describe, expect, it } from "vitest";
import { judgePushEndpoint } from "./web-push.endpoint.js";

const allowed = (endpoint: string, allowLoopback = false): boolean =>
  judgePushEndpoint({ endpoint, allowLoopback }).allowed;

describe("judgePushEndpoint", () => {
  it.each([
    "https://fcm.googleapis.com/fcm/send/abc:def",
    "https://android.googleapis.com/gcm/send/abc",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
    "https://push.services.mozilla.com/wpush/v1/x",
    "https://wns2-by3p.notify.windows.com/w/?token=AQE",
    "https://web.push.apple.com/QGx",
    "https://FCM.GoogleAPIs.com/fcm/send/x",
    "https://fcm.googleapis.com:443/fcm/send/x",
  ])("sends to the push service at %s", (endpoint) => {
    expect(judgePushEndpoint({ endpoint, allowLoopback: false })).toEqual({ allowed: true, loopback: false });
  });

  it.each([
    ["http://fcm.googleapis.com/fcm/send/x", "https"],
    ["ftp://fcm.googleapis.com/x", "https"],
    ["https://user:pass@fcm.googleapis.com/fcm/send/x", "user name or password"],
    ["https://user@fcm.googleapis.com/fcm/send/x", "user name or password"],
    ["https://fcm.googleapis.com:8443/fcm/send/x", "default port"],
    ["https://evil.example/fcm.googleapis.com", "known browser push service"],
    ["https://notfcm.googleapis.com/x", "known browser push service"],
    ["https://fcm.googleapis.com.evil.example/x", "known browser push service"],
    ["https://googleapis.com/x", "known browser push service"],
    ["https://push.apple.com.example/x", "known browser push service"],
    ["https://169.254.169.254/latest/meta-data", "known browser push service"],
    ["https://127.0.0.1/x", "known browser push service"],
    ["https://localhost:8443/x", "default port"],
    ["not a url", "expects a URL"],
  ])("refuses %s (%s)", (endpoint, reason) => {
    const verdict = judgePushEndpoint({ endpoint, allowLoopback: false });
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) {
      expect(verdict.reason).toContain(reason);
      // The reason names what is wrong, never the URL: an endpoint is a capability.
      expect(verdict.reason).not.toContain("evil");
    }
  });

  it("allows https on this machine's loopback, on any port, only when told to", () => {
    for (const endpoint of ["https://127.0.0.1:9443/push/1", "https://localhost/push", "https://[::1]:1234/p"]) {
      expect(allowed(endpoint)).toBe(false);
      expect(judgePushEndpoint({ endpoint, allowLoopback: true })).toEqual({ allowed: true, loopback: true });
    }
    // Loopback does not open plain http, credentials or other hosts.
    expect(allowed("http://127.0.0.1:9443/push", true)).toBe(false);
    expect(allowed("https://u:p@127.0.0.1:9443/push", true)).toBe(false);
    expect(allowed("https://127.0.0.2:9443/push", true)).toBe(false);
    expect(allowed("https://10.0.0.1/push", true)).toBe(false);
    expect(allowed("https://fcm.googleapis.com/fcm/send/x", true)).toBe(true);
  });
});
