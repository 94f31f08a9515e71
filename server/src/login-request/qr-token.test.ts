import { describe, expect, it } from "vitest";
import { createQrTokenSigner } from "./qr-token.js";

describe("QR tokens", () => {
  const signer = createQrTokenSigner({ key: new Uint8Array(32).fill(7) });

  it("verifies the token made for a request, and only for that request and step", () => {
    const token = signer.tokenFor({ loginRequestId: "abc" });
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(signer.verify({ loginRequestId: "abc", token })).toBe(true);
    expect(signer.verify({ loginRequestId: "abd", token })).toBe(false);
    expect(signer.verify({ loginRequestId: "abc", token, step: 1 })).toBe(false);
    expect(signer.verify({ loginRequestId: "abc", token: `${token}x` })).toBe(false);
  });

  it("depends on the server's key", () => {
    const other = createQrTokenSigner({ key: new Uint8Array(32).fill(8) });
    expect(other.tokenFor({ loginRequestId: "abc" })).not.toBe(signer.tokenFor({ loginRequestId: "abc" }));
  });

  it("refuses a short key", () => {
    expect(() => createQrTokenSigner({ key: new Uint8Array(16) })).toThrow(/at least 32 bytes/);
  });
});
