/** A request's key pair as stored, with the time after which nothing can use it. */
export interface StoredDesktopKeys {
  /** The login request's id. */
  id: string;
  keys: CryptoKeyPair;
  /** When the request expires, in ms: past it, the keys are pruned. */
  expiresAt: number;
}

/** Where this browser keeps the keys of the requests its pages wait on, so a reload resumes. */
export interface DesktopKeyStore {
  put(record: StoredDesktopKeys): Promise<void>;
  /** The keys stored for the request, or null. */
  get(id: string): Promise<StoredDesktopKeys | null>;
  delete(id: string): Promise<void>;
  /** Deletes the keys of every request expired by `now` (ms), such as a closed tab's. */
  deleteExpired(now: number): Promise<void>;
}

const DATABASE = "countersign";
const KEYS = "desktop-keys";
const BY_EXPIRY = "expiresAt";

function settled<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
  });
}

function openDatabase(): Promise<IDBDatabase> {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => {
    opening.result.createObjectStore(KEYS, { keyPath: "id" }).createIndex(BY_EXPIRY, "expiresAt");
  };
  return settled(opening);
}

/**
 * The store in IndexedDB, which (unlike sessionStorage) takes a CryptoKey as it is: structured
 * clone keeps a non-extractable key usable and still non-extractable. Shared by the origin's tabs,
 * each of which stores only its own requests' keys.
 */
export function createIndexedDbDesktopKeyStore(): DesktopKeyStore {
  let database: Promise<IDBDatabase> | null = null;

  async function run<T>(
    mode: IDBTransactionMode,
    operation: (keys: IDBObjectStore) => IDBRequest<T> | void,
  ): Promise<T | undefined> {
    database ??= openDatabase().then(
      (opened) => {
        // A newer page needs to upgrade the database: let it, and reopen on the next call.
        opened.onversionchange = () => {
          opened.close();
          database = null;
        };
        return opened;
      },
      (error: unknown) => {
        database = null;
        throw error;
      },
    );
    const transaction = (await database).transaction(KEYS, mode);
    const request = operation(transaction.objectStore(KEYS));
    const done = new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error ?? new Error("IndexedDB transaction failed"));
      transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
    });
    const [result] = await Promise.all([request === undefined ? undefined : settled(request), done]);
    return result;
  }

  return {
    async put(record) {
      await run("readwrite", (keys) => keys.put(record));
    },
    async get(id) {
      const found = (await run("readonly", (keys) => keys.get(id))) as StoredDesktopKeys | undefined;
      return found ?? null;
    },
    async delete(id) {
      await run("readwrite", (keys) => keys.delete(id));
    },
    async deleteExpired(now) {
      await run("readwrite", (keys) => {
        const cursor = keys.index(BY_EXPIRY).openCursor(IDBKeyRange.upperBound(now));
        cursor.onsuccess = () => {
          if (cursor.result === null) return;
          cursor.result.delete();
          cursor.result.continue();
        };
      });
    },
  };
}
