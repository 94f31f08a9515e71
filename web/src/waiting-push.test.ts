import { describe, expect, it } from "vitest";
import { createWaitingPushStore } from "./waiting-push.js";

const STORAGE_KEY = "countersign:waiting-push";

function memoryStorage(options: { failWrites?: boolean } = {}): Pick<Storage, "getItem" | "setItem" | "removeItem"> & {
  items: Map<string, string>;
} {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      if (options.failWrites === true) throw new Error("QuotaExceededError");
      items.set(key, value);
    },
    removeItem: (key) => void items.delete(key),
  };
}

const push = (id: string) => ({ id, desktopSecret: `secret-${id}` });

describe("the push request a tab leaves waiting", () => {
  it("keeps the waiting push for the next page of the tab to cancel", () => {
    const storage = memoryStorage();
    createWaitingPushStore({ storage }).remember(push("login-1"));
    // A new page of the same tab: a new store over the same sessionStorage.
    expect(createWaitingPushStore({ storage }).remembered()).toEqual(push("login-1"));
  });

  it("keeps only the id and the desktop secret, whatever else it is handed", () => {
    const storage = memoryStorage();
    const handed = { ...push("login-1"), matchNumber: 42, privateKey: "not for storage" };
    createWaitingPushStore({ storage }).remember(handed);
    expect(JSON.parse(storage.items.get(STORAGE_KEY)!)).toEqual(push("login-1"));
  });

  it("keeps one push at a time: a newer one replaces the older", () => {
    const store = createWaitingPushStore({ storage: memoryStorage() });
    store.remember(push("login-1"));
    store.remember(push("login-2"));
    expect(store.remembered()).toEqual(push("login-2"));
  });

  it("forgets a push once it is over", () => {
    const storage = memoryStorage();
    const store = createWaitingPushStore({ storage });
    store.remember(push("login-1"));
    store.forget("login-1");
    expect(store.remembered()).toBeNull();
    expect(storage.items.size).toBe(0);
  });

  it("does not forget a newer push when an older one ends late", () => {
    const store = createWaitingPushStore({ storage: memoryStorage() });
    store.remember(push("login-1"));
    store.remember(push("login-2"));
    store.forget("login-1");
    expect(store.remembered()).toEqual(push("login-2"));
  });

  it("ignores, and drops, what it cannot read back", () => {
    const storage = memoryStorage();
    const store = createWaitingPushStore({ storage });
    for (const junk of [
      "{not json",
      JSON.stringify({ id: "login-1" }),
      JSON.stringify({ id: "a b", desktopSecret: "s" }),
    ]) {
      storage.items.set(STORAGE_KEY, junk);
      expect(store.remembered()).toBeNull();
      expect(storage.items.size).toBe(0);
    }
  });

  it("never throws when storage refuses a write: the push then simply is not kept", () => {
    const store = createWaitingPushStore({ storage: memoryStorage({ failWrites: true }) });
    expect(() => store.remember(push("login-1"))).not.toThrow();
    expect(store.remembered()).toBeNull();
  });
});
