import { createLoginResponseSchema, type CreateLoginResponse } from "@countersign/shared";
import type { DesktopKeyStore } from "./desktop-key.store.js";

const KEY = "countersign:pending-login";

/** A QR request this tab waits on, with the key pair it was created with. */
export interface PendingLogin {
  created: CreateLoginResponse;
  keys: CryptoKeyPair;
}

/**
 * The request this tab is waiting on, kept so a reload resumes it instead of abandoning it: the
 * request in sessionStorage (this tab's alone, ending with it), its key pair in the key store
 * (sessionStorage cannot hold a CryptoKey). The two move together: the request is written only
 * once its keys are stored, and a request whose keys are gone is never resumed (the server would
 * refuse its watch), so a reload then starts a new one.
 *
 * Every method settles in the order it was called and never rejects: a storage failure only
 * means that a reload starts a new request.
 */
export interface PendingLoginStore {
  /** Keeps this request, replacing the tab's earlier one, whose keys it deletes. */
  save(pending: PendingLogin): Promise<void>;
  /** The request to resume with its keys, or null: none, expired, or its keys are gone. */
  load(): Promise<PendingLogin | null>;
  /** Forgets the tab's request and deletes its keys: it is over (or abandoned). */
  clear(): Promise<void>;
}

export function createPendingLoginStore(deps: {
  /** sessionStorage in the page. */
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  keys: DesktopKeyStore;
  /** The time now, in ms. */
  now: () => number;
}): PendingLoginStore {
  const { storage, keys } = deps;
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs `operation` after every earlier one, so a clear never overtakes the save before it. */
  function serially<T>(operation: () => Promise<T>, fallback: T): Promise<T> {
    const result = queue.then(operation).catch(() => fallback);
    queue = result;
    return result;
  }

  function read(): CreateLoginResponse | null {
    const raw = storage.getItem(KEY);
    if (raw === null) return null;
    try {
      const parsed = createLoginResponseSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /** Deletes a request's keys; if that fails, deleteExpired prunes them after expiry. */
  async function deleteKeys(id: string): Promise<void> {
    await keys.delete(id).catch(() => undefined);
  }

  async function forget(): Promise<void> {
    const previous = read();
    storage.removeItem(KEY);
    if (previous !== null) await deleteKeys(previous.login.id);
  }

  return {
    save: ({ created, keys: pair }) =>
      serially(async () => {
        const id = created.login.id;
        const previous = read();
        if (previous !== null && previous.login.id !== id) await forget();
        try {
          await keys.put({ id, keys: pair, expiresAt: created.login.expiresAt });
          storage.setItem(KEY, JSON.stringify(created));
        } catch {
          // Not resumable without both halves: keep neither.
          storage.removeItem(KEY);
          await deleteKeys(id);
        }
        // Keys no tab will come back for, such as those of a tab closed mid-flow.
        await keys.deleteExpired(deps.now()).catch(() => undefined);
      }, undefined),

    load: () =>
      serially(async () => {
        const created = read();
        if (created === null) {
          storage.removeItem(KEY);
          return null;
        }
        const stored = created.login.expiresAt > deps.now() ? await keys.get(created.login.id) : null;
        if (stored === null) {
          await forget();
          return null;
        }
        return { created, keys: stored.keys };
      }, null),

    clear: () => serially(forget, undefined),
  };
}
