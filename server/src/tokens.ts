import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** SHA-256 of a secret, base64url: what the store keeps instead of the secret. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("base64url");
}

/** Constant-time comparison of two strings of possibly different lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  // Hashing first gives equal-length inputs without leaking the length through an early exit.
  const left = createHash("sha256").update(a, "utf8").digest();
  const right = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(left, right);
}

/** Whether `secret` hashes to `expectedHash`, compared in constant time. */
export function secretMatchesHash(secret: string, expectedHash: string): boolean {
  return timingSafeEqual(
    createHash("sha256").update(hashSecret(secret)).digest(),
    createHash("sha256").update(expectedHash).digest(),
  );
}

/** HMAC-SHA-256, base64url, truncated to `bytes` bytes. */
export function hmacToken(options: { key: Uint8Array; message: string; bytes: number }): string {
  return createHmac("sha256", options.key)
    .update(options.message, "utf8")
    .digest()
    .subarray(0, options.bytes)
    .toString("base64url");
}
