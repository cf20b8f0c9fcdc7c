/**
 * The vault's IndexedDB schema (Dexie). Each entry of `SCHEMA` is one database version with
 * its stores and, from version 2 on, an upgrade function that migrates existing rows; add a
 * new entry (never edit an old one) to change the schema.
 *
 * - devices: the service's `Device` records, plaintext (statuses show while locked).
 * - keys:    encrypted recovery keys, one row per (device, volume, version).
 * - outbox:  actions waiting for the network (offline reveals to report), plaintext. Rows
 *            written before version 2 may still carry `secret: null`, which nothing reads.
 * - meta:    one row per name: `vault` (salt, KDF params, wrapped data key = verifier),
 *            `unlock` (failed attempts, lockout). Version 1 also kept a `sync` cursor there
 *            that nothing read (the extension's sync status holds the one cursor); version 2
 *            deletes it.
 */
import { Dexie, type EntityTable, type Table, type Transaction } from 'dexie';
import type { Device, KeyKind } from '../../lib/api/contract.ts';
import type { Sealed } from './aead.ts';
import type { KdfParams } from './kdf.ts';

export type KeyRecord = {
  /** `${deviceId}/${volumeId}/${version}` */
  id: string;
  deviceId: string;
  volumeId: string;
  kind: KeyKind;
  version: number;
  protectorId: string | null;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  storedAt: number;
};

/** Only offline reveals wait for the network (to be reported to the audit log). */
export type OutboxKind = 'offline_reveal';

export type OutboxRecord = {
  /** The idempotency key sent with the request. */
  id: string;
  kind: OutboxKind;
  deviceId: string;
  /** The request's fields: never a secret (the outbox is not encrypted). */
  payload: Record<string, string | number | boolean | null>;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
};

export type VaultMeta = {
  name: 'vault';
  format: 1;
  salt: Uint8Array;
  kdf: KdfParams;
  /** Random id of the current data key; changes with every passphrase change. */
  keyId: string;
  /** The data key sealed under the passphrase-derived key; its Poly1305 tag is the passphrase verifier. */
  wrappedKey: Sealed;
  /** A constant sealed under the data key: proves a session key from storage.session is current. */
  keyCheck: Sealed;
  createdAt: number;
};
export type UnlockMeta = { name: 'unlock'; failedAttempts: number; lockedOutUntil: number };
export type MetaRow = VaultMeta | UnlockMeta;

export type VaultDb = Dexie & {
  devices: EntityTable<Device, 'id'>;
  keys: EntityTable<KeyRecord, 'id'>;
  outbox: EntityTable<OutboxRecord, 'id'>;
  meta: Table<MetaRow, MetaRow['name']>;
};

type SchemaVersion = { version: number; stores: Record<string, string>; upgrade?: (tx: Transaction) => Promise<void> };

const SCHEMA: SchemaVersion[] = [
  {
    version: 1,
    stores: {
      devices: 'id, updatedAt',
      keys: 'id, [deviceId+volumeId], deviceId',
      outbox: 'id, nextAttemptAt',
      meta: 'name',
    },
  },
  {
    version: 2,
    stores: {},
    upgrade: async (tx) => {
      await tx.table('meta').delete('sync');
    },
  },
];

export type IndexedDbDeps = { indexedDB: IDBFactory; IDBKeyRange: typeof IDBKeyRange };

/** Uses `deps`, else the global IndexedDB as it is now (not as it was when Dexie loaded). */
export function openVaultDb(name: string, deps?: IndexedDbDeps): VaultDb {
  const g = globalThis as Partial<IndexedDbDeps>;
  const current = g.indexedDB && g.IDBKeyRange ? { indexedDB: g.indexedDB, IDBKeyRange: g.IDBKeyRange } : undefined;
  const db = new Dexie(name, deps ?? current) as VaultDb;
  for (const { version, stores, upgrade } of SCHEMA) {
    const v = db.version(version).stores(stores);
    if (upgrade) v.upgrade(upgrade);
  }
  return db;
}

export async function readMeta<N extends MetaRow['name']>(db: VaultDb, name: N): Promise<Extract<MetaRow, { name: N }> | undefined> {
  return (await db.meta.get(name)) as Extract<MetaRow, { name: N }> | undefined;
}
