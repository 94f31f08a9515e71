import { desktopSecretBodySchema, loginIdSchema } from "@countersign/shared";

const KEY = "countersign:waiting-push";

/** What cancelling a push request takes: nothing else of it is kept. */
export interface WaitingPush {
  id: string;
  desktopSecret: string;
}

const waitingPushSchema = desktopSecretBodySchema.extend({ id: loginIdSchema });

/**
 * The push request this tab has sent and not yet seen end. Unlike a QR request it is never
 * resumed: its card sits on the person's phones, so a page that leaves it behind (closed,
 * reloaded, navigated away) must cancel it. Leaving sends the cancel as the page goes; this copy,
 * in sessionStorage (this tab's alone), lets the next page of the tab cancel it again in case that
 * request did not make it.
 *
 * Storage failures are swallowed: at worst the request waits on the phone until it expires.
 */
export interface WaitingPushStore {
  /** Keeps this push as the tab's waiting one, replacing any earlier one. */
  remember(push: WaitingPush): void;
  /** The tab's waiting push, or null: none, or nothing readable. */
  remembered(): WaitingPush | null;
  /** Forgets the push `id` if it is the one kept; a newer one stays. */
  forget(id: string): void;
}

export function createWaitingPushStore(deps: {
  /** sessionStorage in the page. */
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
}): WaitingPushStore {
  const { storage } = deps;
  const attempt = (operation: () => void): void => {
    try {
      operation();
    } catch {
      // Storage full or blocked: see above.
    }
  };

  function remembered(): WaitingPush | null {
    try {
      const raw = storage.getItem(KEY);
      if (raw === null) return null;
      const parsed = waitingPushSchema.safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data;
    } catch {
      // Unreadable: treated as nothing kept, and dropped below.
    }
    attempt(() => storage.removeItem(KEY));
    return null;
  }

  return {
    remember: ({ id, desktopSecret }) => attempt(() => storage.setItem(KEY, JSON.stringify({ id, desktopSecret }))),
    remembered,
    forget: (id) => {
      if (remembered()?.id === id) attempt(() => storage.removeItem(KEY));
    },
  };
}
