import { describe, expect, it } from "vitest";
import type { CreateLoginResponse } from "@countersign/shared";
import type { DesktopKeyStore, StoredDesktopKeys } from "./desktop-key.store.js";
import { createPendingLoginStore, type PendingLogin } from "./pending-login.js";

const NOW = 1_790_000_000_000;
const STORAGE_KEY = "countersign:pending-login";

/** The key store's behaviour, in memory; `putGate` holds every put until it resolves. */
function memoryKeyStore(options: { putGate?: Promise<void>; failPuts?: boolean } = {}): DesktopKeyStore & {
  records: Map<string, StoredDesktopKeys>;
} {
  const records = new Map<string, StoredDesktopKeys>();
  return {
    records,
    async put(record) {
      await options.putGate;
      if (options.failPuts === true) throw new Error("quota exceeded");
      records.set(record.id, record);
    },
    async get(id) {
      return records.get(id) ?? null;
    },
    async delete(id) {
      records.delete(id);
    },
    async deleteExpired(now) {
      for (const [id, record] of records) if (record.expiresAt <= now) records.delete(id);
    },
  };
}

function memoryStorage(): Pick<Storage, "getItem" | "setItem" | "removeItem"> & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

/** A stand-in pair: the store only keeps it, it never looks inside. */
const keyPair = (name: string): CryptoKeyPair => ({ name }) as unknown as CryptoKeyPair;

function pendingFor(id: string, options: { expiresAt?: number } = {}): PendingLogin {
  const created: CreateLoginResponse = {
    login: {
      id,
      status: "pending",
      version: 1,
      createdAt: NOW - 1_000,
      expiresAt: options.expiresAt ?? NOW + 120_000,
      redeemBy: null,
      scannedBy: null,
      denyReason: null,
      checkNumber: 42,
    },
    desktopSecret: `secret-${id}`,
    userCode: "ABCD2345",
    qr: { id, step: 1, token: "token", url: `https://login.example.com/approve/#/r/${id}.token` },
  };
  return { created, keys: keyPair(id) };
}

function setUp(options: { putGate?: Promise<void>; failPuts?: boolean } = {}) {
  const keys = memoryKeyStore(options);
  const storage = memoryStorage();
  const clock = { now: NOW };
  const pending = createPendingLoginStore({ storage, keys, now: () => clock.now });
  return { keys, storage, clock, pending };
}

describe("the request a tab waits on, with its key", () => {
  it("resumes the saved request with the key pair it was created with", async () => {
    const { pending } = setUp();
    const saved = pendingFor("login-1");
    await pending.save(saved);
    const resumed = await pending.load();
    expect(resumed?.created).toEqual(saved.created);
    expect(resumed?.keys).toBe(saved.keys);
  });

  it("does not resume a request whose key is gone, and forgets it", async () => {
    const { pending, keys, storage } = setUp();
    await pending.save(pendingFor("login-1"));
    keys.records.clear();
    expect(await pending.load()).toBeNull();
    expect(storage.items.size).toBe(0);
  });

  it("does not resume an expired request, and deletes its key", async () => {
    const { pending, keys, storage, clock } = setUp();
    await pending.save(pendingFor("login-1", { expiresAt: NOW + 1_000 }));
    clock.now = NOW + 1_000;
    expect(await pending.load()).toBeNull();
    expect(keys.records.size).toBe(0);
    expect(storage.items.size).toBe(0);
  });

  it("deletes the key of the request a new one replaces", async () => {
    const { pending, keys } = setUp();
    await pending.save(pendingFor("login-1"));
    await pending.save(pendingFor("login-2"));
    expect([...keys.records.keys()]).toEqual(["login-2"]);
    expect((await pending.load())?.created.login.id).toBe("login-2");
  });

  it("keeps the key when the same request is saved again on resuming", async () => {
    const { pending, keys } = setUp();
    const saved = pendingFor("login-1");
    await pending.save(saved);
    await pending.save(saved);
    expect(keys.records.get("login-1")?.keys).toBe(saved.keys);
  });

  it("forgets the request and deletes its key once it is over", async () => {
    const { pending, keys, storage } = setUp();
    await pending.save(pendingFor("login-1"));
    await pending.clear();
    expect(keys.records.size).toBe(0);
    expect(storage.items.size).toBe(0);
    expect(await pending.load()).toBeNull();
  });

  it("never lets a clear be overtaken by the save before it, however slow the key store", async () => {
    let open!: () => void;
    const { pending, keys, storage } = setUp({ putGate: new Promise((resolve) => (open = resolve)) });
    const saving = pending.save(pendingFor("login-1"));
    const clearing = pending.clear();
    open();
    await Promise.all([saving, clearing]);
    expect(keys.records.size).toBe(0);
    expect(storage.items.size).toBe(0);
  });

  it("keeps no request when its key cannot be stored, so a reload starts a new one", async () => {
    const { pending, storage } = setUp({ failPuts: true });
    await expect(pending.save(pendingFor("login-1"))).resolves.toBeUndefined();
    expect(storage.items.size).toBe(0);
    expect(await pending.load()).toBeNull();
  });

  it("prunes the keys of expired requests another tab left behind, and only those", async () => {
    const { pending, keys } = setUp();
    keys.records.set("closed-tab", { id: "closed-tab", keys: keyPair("closed-tab"), expiresAt: NOW - 1 });
    keys.records.set("other-tab", { id: "other-tab", keys: keyPair("other-tab"), expiresAt: NOW + 60_000 });
    await pending.save(pendingFor("login-1"));
    expect([...keys.records.keys()].sort()).toEqual(["login-1", "other-tab"]);
  });

  it("ignores what it cannot read back from sessionStorage", async () => {
    const { pending, storage } = setUp();
    storage.items.set(STORAGE_KEY, "{not json");
    expect(await pending.load()).toBeNull();
    storage.items.set(STORAGE_KEY, JSON.stringify({ login: { id: "login-1" } }));
    expect(await pending.load()).toBeNull();
    expect(storage.items.size).toBe(0);
  });
});
