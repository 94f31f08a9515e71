import { randomBytes } from "node:crypto";

/** Randomness, injected so tests can make ids and codes predictable when they need to. */
export interface Random {
  bytes(length: number): Uint8Array;
}

export const cryptoRandom: Random = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
};

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
