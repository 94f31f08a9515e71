import type { Clock } from "../clock.js";
import type { OidcIndex, OidcListedRecord, OidcRecord, OidcRecordWrite, OidcStorage } from "./oidc.adapter.js";

/** How often (by the clock) a write also drops every record whose time is up. */
const SWEEP_INTERVAL_MS = 60_000;

interface StoredRecord {
  model: string;
  id: string;
  /** The payload as JSON: copied in and out, and read back exactly as Redis would give it. */
  json: string;
  /** When it reads as absent (ms on the clock); null: never. */
  retainUntil: number | null;
  consumedAt: number | null;
  uid: string | null;
  userCode: string | null;
  grantId: string | null;
  accountId: string | null;
}

/**
 * oidc-provider's storage in this process's memory, lost on restart: for the embedded
 * deployment and tests. Every method runs without awaiting between its reads and its writes,
 * so each is atomic (consume above all). Time is the injected clock's: a record past its
 * retainUntil reads as absent, and writes sweep such records out now and then, without timers.
 */
export function createMemoryOidcStorage(options: { clock: Clock }): OidcStorage {
  const { clock } = options;
  /** By recordKey(model, id). */
  const records = new Map<string, StoredRecord>();
  /** By indexKey(model, index, value): the id of the record that had that value when written. */
  const indexes = new Map<string, string>();
  /** By grant id: the recordKeys of the records written with it. */
  const grants = new Map<string, Set<string>>();
  /** By accountKey(model, accountId): the recordKeys of the records written with it. */
  const accounts = new Map<string, Set<string>>();
  let nextSweep = clock.now() + SWEEP_INTERVAL_MS;

  const recordKey = (model: string, id: string): string => `${model}\u0000${id}`;
  const indexKey = (model: string, index: OidcIndex, value: string): string => `${model}\u0000${index}\u0000${value}`;
  const accountKey = (model: string, accountId: string): string => `${model}\u0000${accountId}`;

  function addMember(sets: Map<string, Set<string>>, setKey: string, member: string): void {
    const members = sets.get(setKey) ?? new Set<string>();
    members.add(member);
    sets.set(setKey, members);
  }

  function removeMember(sets: Map<string, Set<string>>, setKey: string, member: string): void {
    const members = sets.get(setKey);
    members?.delete(member);
    if (members?.size === 0) sets.delete(setKey);
  }

  function live(key: string): StoredRecord | undefined {
    const record = records.get(key);
    if (record !== undefined && record.retainUntil !== null && record.retainUntil <= clock.now()) {
      remove(key, record);
      return undefined;
    }
    return record;
  }

  /** Drops a record with its index entries, as long as they still name it. */
  function remove(key: string, record: StoredRecord): void {
    records.delete(key);
    const { model, id } = record;
    for (const index of ["uid", "userCode"] as const) {
      const value = record[index];
      if (value !== null && indexes.get(indexKey(model, index, value)) === id) {
        indexes.delete(indexKey(model, index, value));
      }
    }
    if (record.grantId !== null) removeMember(grants, record.grantId, key);
    if (record.accountId !== null) removeMember(accounts, accountKey(model, record.accountId), key);
  }

  function read(record: StoredRecord): OidcRecord {
    return { payload: JSON.parse(record.json) as OidcRecord["payload"], consumedAt: record.consumedAt };
  }

  function sweepNowAndThen(): void {
    if (clock.now() < nextSweep) return;
    nextSweep = clock.now() + SWEEP_INTERVAL_MS;
    for (const key of records.keys()) live(key);
  }

  return {
    async upsert(write: OidcRecordWrite) {
      sweepNowAndThen();
      const key = recordKey(write.model, write.id);
      const previous = live(key);
      if (previous !== undefined) remove(key, previous);
      const record: StoredRecord = {
        model: write.model,
        id: write.id,
        json: JSON.stringify(write.payload),
        retainUntil: write.ttlMs === null ? null : clock.now() + write.ttlMs,
        // Consumption is never undone, even by saving a copy read before it.
        consumedAt: previous?.consumedAt ?? write.consumedAt,
        uid: write.uid,
        userCode: write.userCode,
        grantId: write.grantId,
        accountId: write.accountId,
      };
      records.set(key, record);
      if (record.uid !== null) indexes.set(indexKey(write.model, "uid", record.uid), write.id);
      if (record.userCode !== null) indexes.set(indexKey(write.model, "userCode", record.userCode), write.id);
      if (record.grantId !== null) addMember(grants, record.grantId, key);
      if (record.accountId !== null) addMember(accounts, accountKey(write.model, record.accountId), key);
    },

    async find({ model, id }) {
      const record = live(recordKey(model, id));
      return record === undefined ? null : read(record);
    },

    async findByIndex({ model, index, value }) {
      const id = indexes.get(indexKey(model, index, value));
      if (id === undefined) return null;
      const record = live(recordKey(model, id));
      return record === undefined || record[index] !== value ? null : read(record);
    },

    async consume({ model, id, at }) {
      const record = live(recordKey(model, id));
      if (record === undefined) return "not_found";
      if (record.consumedAt !== null) return "already_consumed";
      record.consumedAt = at;
      return "consumed";
    },

    async destroy({ model, id }) {
      const key = recordKey(model, id);
      const record = records.get(key);
      if (record !== undefined) remove(key, record);
    },

    async revokeByGrantId(grantId) {
      for (const key of [...(grants.get(grantId) ?? [])]) {
        const record = records.get(key);
        if (record !== undefined) remove(key, record);
      }
      grants.delete(grantId);
    },

    async listByAccount({ model, accountId }) {
      const listed: OidcListedRecord[] = [];
      // live() drops what has expired, from this set too: hence the copy.
      for (const key of [...(accounts.get(accountKey(model, accountId)) ?? [])]) {
        const record = live(key);
        if (record !== undefined) listed.push({ id: record.id, ...read(record) });
      }
      return listed;
    },
  };
}
