import { createHash, randomBytes } from "node:crypto";

/** What this app remembers between sending the browser to Countersign and its return. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Who signed in, from the ID token (sub, acr, amr, auth_time) and UserInfo (the names). */
export interface SignedInPerson {
  sub: string;
  name: string | null;
  preferredUsername: string | null;
  acr: string | null;
  amr: string[];
  /** Seconds since the epoch: when this person last signed in to Countersign on this browser. */
  authTime: number | null;
}

/**
 * The per-browser state, in this process's memory, keyed by a random token in a cookie. Only the
 * token's SHA-256 is kept, so the map itself holds nothing a browser could present. Every sign-in
 * step hands out a new token (the old one stops working), entries expire, and the map is bounded.
 */
export interface BrowserSessions {
  /** Remembers a sign-in that is starting; the token goes in the browser's cookie. */
  startSignIn(pending: PendingSignIn): string;
  /** The pending sign-in for this token, once: reading it deletes it. Null if none or expired. */
  takePendingSignIn(token: string | null): PendingSignIn | null;
  /** Remembers who signed in; a new token for the cookie. */
  signIn(person: SignedInPerson): string;
  /** Who is signed in with this token, or null. */
  personOf(token: string | null): SignedInPerson | null;
  /** Forgets this token's entry, whatever it holds. */
  end(token: string | null): void;
  /** How many entries are held, expired ones included until the next write sweeps them. */
  size(): number;
}

type Entry = { expiresAt: number } & ({ pending: PendingSignIn } | { person: SignedInPerson });

export interface BrowserSessionsOptions {
  /** The clock, in milliseconds. Default: Date.now. */
  now?: () => number;
  /** How long a started sign-in may take. Default: 10 minutes, Countersign's own interaction limit. */
  pendingTtlMs?: number;
  /** How long a person stays signed in to this app. Default: 8 hours. */
  signedInTtlMs?: number;
  /** At most this many entries; past it, the oldest go first. Default: 10,000. */
  maxEntries?: number;
}

/** Browser sessions in memory (see BrowserSessions). */
export function createBrowserSessions(options: BrowserSessionsOptions = {}): BrowserSessions {
  const now = options.now ?? Date.now;
  const pendingTtlMs = options.pendingTtlMs ?? 10 * 60_000;
  const signedInTtlMs = options.signedInTtlMs ?? 8 * 60 * 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries expects a whole number of at least 1, got ${maxEntries}`);
  }
  const entries = new Map<string, Entry>();

  const keyOf = (token: string): string => createHash("sha256").update(token).digest("base64url");

  function read(token: string | null): Entry | null {
    if (token === null) return null;
    const key = keyOf(token);
    const entry = entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return null;
    }
    return entry;
  }

  function write(entry: Entry): string {
    const at = now();
    for (const [key, held] of entries) if (held.expiresAt <= at) entries.delete(key);
    // A Map iterates in insertion order: the first keys are the oldest.
    for (const key of entries.keys()) {
      if (entries.size < maxEntries) break;
      entries.delete(key);
    }
    const token = randomBytes(32).toString("base64url");
    entries.set(keyOf(token), entry);
    return token;
  }

  return {
    startSignIn: (pending) => write({ pending, expiresAt: now() + pendingTtlMs }),
    takePendingSignIn(token) {
      const entry = read(token);
      if (entry === null || !("pending" in entry)) return null;
      entries.delete(keyOf(token!));
      return entry.pending;
    },
    signIn: (person) => write({ person, expiresAt: now() + signedInTtlMs }),
    personOf(token) {
      const entry = read(token);
      return entry !== null && "person" in entry ? entry.person : null;
    },
    end(token) {
      if (token !== null) entries.delete(keyOf(token));
    },
    size: () => entries.size,
  };
}
