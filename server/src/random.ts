import { randomBytes } from "node:crypto";

/** Randomness, injected so tests can make ids and codes predictable when they need to. */
export interface Random {
  bytes(length: number): Uint8Array;
}

/**
 * Bytes from the system's CSPRNG, drawn from a pool refilled `poolSize` bytes at a time, as
 * Node's own crypto.randomUUID does: one call into the generator per pool instead of one per id
 * (about 6 µs each on the development machine; a sign-in makes dozens: ids, secrets, codes,
 * challenges, request ids). Every byte is handed out once and wiped from the pool as it goes, so
 * the pool never holds a token already issued.
 */
export function createPooledRandom(poolSize = 4096): Random {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return {
    bytes(length) {
      if (length > poolSize) return new Uint8Array(randomBytes(length));
      if (offset + length > pool.length) {
        pool = randomBytes(poolSize);
        offset = 0;
      }
      // A copy: the caller owns it, and the pool's bytes can be wiped.
      const out = new Uint8Array(pool.subarray(offset, offset + length));
      pool.fill(0, offset, offset + length);
      offset += length;
      return out;
    },
  };
}

export const cryptoRandom: Random = createPooledRandom();

/** A random base64url token of `bytes` bytes. */
export function randomToken(random: Random, bytes: number): string {
  return Buffer.from(random.bytes(bytes)).toString("base64url");
}

/**
 * A uniformly random string over `alphabet`, by rejection sampling (a plain modulo would make
 * some characters likelier than others).
 */
export function randomString(random: Random, options: { alphabet: string; length: number }): string {
  const { alphabet, length } = options;
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of random.bytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}
