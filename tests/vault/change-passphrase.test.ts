import { describe, expect, it, vi } from 'vitest';
import type { KeyRecord } from '../../utils/vault/db.ts';
import { expectVaultError, freshDbName, openTestVault, PASSPHRASE, rawDb } from './helpers.ts';

const NEW_PASSPHRASE = 'a completely different passphrase';
const KEYS = Array.from({ length: 7 }, (_, i) => ({
  deviceId: `dev-${i % 3}`,
  volumeId: `vol-${i}`,
  kind: 'luks' as const,
  version: 1,
  key: `luks-key-${i}-${'x'.repeat(20)}`,
}));

async function populatedVault(name: string) {
  const vault = await openTestVault(name);
  await vault.setup(PASSPHRASE);
  for (const k of KEYS) await vault.putKey(k);
  await vault.enqueue({ kind: 'offline_reveal', deviceId: 'dev-0', payload: { volumeId: 'vol-0', version: 1 }, idempotencyKey: 'reveal-1' });
  return vault;
}

async function storedNonces(name: string): Promise<string[]> {
  const db = rawDb(name);
  const keys = await db.keys.toArray();
  db.close();
  return keys.map((r) => Buffer.from(r.nonce).toString('hex'));
}

/** A fresh Vault on the same database (as after a service-worker restart) that must open with `passphrase` and read everything. */
async function expectReadableWith(name: string, passphrase: string, rejected: string) {
  const vault = await openTestVault(name);
  await expectVaultError(vault.unlock(rejected), 'wrong_passphrase');
  await vault.unlock(passphrase);
  for (const k of KEYS) expect((await vault.getKey(k.deviceId, k.volumeId))?.key).toBe(k.key);
  // The offline-reveal report (plaintext) is untouched by any change.
  expect((await vault.due()).map((e) => [e.id, e.payload])).toEqual([['reveal-1', { volumeId: 'vol-0', version: 1 }]]);
  vault.close();
}

describe('changePassphrase', () => {
  it('re-encrypts every record under the new passphrase', async () => {
    const name = freshDbName();
    const vault = await populatedVault(name);
    const before = await storedNonces(name);
    const progress: number[] = [];
    await vault.changePassphrase(PASSPHRASE, NEW_PASSPHRASE, (f) => progress.push(f));
    expect(progress.at(-1)).toBe(1);
    expect(progress.some((f) => f === 0.5)).toBe(true);
    const after = await storedNonces(name);
    expect(after).toHaveLength(before.length);
    expect(after.filter((n) => before.includes(n))).toEqual([]);
    expect(vault.isUnlocked()).toBe(true);
    expect((await vault.getKey('dev-1', 'vol-1'))?.key).toBe(KEYS[1].key);
    vault.close();
    await expectReadableWith(name, NEW_PASSPHRASE, PASSPHRASE);
  });

  it('leaves the vault entirely on the old passphrase when it fails half-way', async () => {
    const name = freshDbName();
    const vault = await populatedVault(name);
    const before = await storedNonces(name);
    // The browser's IndexedDB fails the fourth key write of the change (of seven): the transaction aborts.
    let keyWrites = 0;
    const put = IDBObjectStore.prototype.put;
    const failing = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'keys' && ++keyWrites === 4) throw new DOMException('injected failure', 'UnknownError');
      return put.call(this, value, key);
    });
    try {
      await expect(vault.changePassphrase(PASSPHRASE, NEW_PASSPHRASE)).rejects.toThrow('injected failure');
    } finally {
      failing.mockRestore();
    }
    expect(keyWrites).toBe(4);
    expect(await storedNonces(name)).toEqual(before);
    // The running instance keeps working with the old key too.
    expect((await vault.getKey('dev-2', 'vol-5'))?.key).toBe(KEYS[5].key);
    vault.close();
    await expectReadableWith(name, PASSPHRASE, NEW_PASSPHRASE);
  });

  it('does not lose a key written by another instance during the change: it refuses and changes nothing', async () => {
    const name = freshDbName();
    // Dexie binds IndexedDB's transaction() when a database opens: watch it from the start.
    let meanwhile: { row: KeyRecord; connection: IDBDatabase } | null = null;
    const transaction = IDBDatabase.prototype.transaction;
    const interleave = vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, stores: string | Iterable<string>, mode?: IDBTransactionMode, options?: IDBTransactionOptions) {
      const names = typeof stores === 'string' ? [stores] : [...stores];
      if (meanwhile && this !== meanwhile.connection && mode === 'readwrite' && names.includes('keys')) {
        // The other write reaches IndexedDB just before the change's own write transaction, after
        // the change read and re-encrypted the records: IndexedDB runs it first.
        meanwhile.connection.transaction('keys', 'readwrite').objectStore('keys').put(meanwhile.row);
        meanwhile = null;
      }
      return transaction.call(this, names, mode, options);
    });
    const vault = await populatedVault(name);
    // Another instance's key record, sealed now and written while the change is under way.
    const other = await openTestVault(name);
    await other.unlock(PASSPHRASE);
    await other.putKey({ deviceId: 'dev-9', volumeId: 'vol-9', kind: 'luks', version: 1, key: 'written-meanwhile-key-0000' });
    other.close();
    const writer = rawDb(name);
    const row = await writer.keys.get('dev-9/vol-9/1');
    if (!row) throw new Error('missing row');
    await writer.keys.delete(row.id);
    meanwhile = { row, connection: writer.backendDB() };
    try {
      await expectVaultError(vault.changePassphrase(PASSPHRASE, NEW_PASSPHRASE), 'vault_changed');
      expect(meanwhile).toBeNull();
    } finally {
      interleave.mockRestore();
      writer.close();
    }
    vault.close();
    await expectReadableWith(name, PASSPHRASE, NEW_PASSPHRASE);
    const check = await openTestVault(name);
    await check.unlock(PASSPHRASE);
    expect((await check.getKey('dev-9', 'vol-9'))?.key).toBe('written-meanwhile-key-0000');
  });

  it('invalidates session keys exported before the change', async () => {
    const name = freshDbName();
    const vault = await populatedVault(name);
    const oldSession = vault.exportSessionKey();
    await vault.changePassphrase(PASSPHRASE, NEW_PASSPHRASE);
    const newSession = vault.exportSessionKey();
    const restarted = await openTestVault(name);
    await expectVaultError(restarted.resumeFromSessionKey(oldSession), 'session_invalid');
    await restarted.resumeFromSessionKey(newSession);
    expect((await restarted.getKey('dev-0', 'vol-0'))?.key).toBe(KEYS[0].key);
  });

  it('refuses a wrong old passphrase and changes nothing', async () => {
    const name = freshDbName();
    const vault = await populatedVault(name);
    const before = await storedNonces(name);
    await expectVaultError(vault.changePassphrase('not the old one', NEW_PASSPHRASE), 'wrong_passphrase');
    await expectVaultError(vault.changePassphrase(PASSPHRASE, 'short'), 'passphrase_too_short');
    expect(await storedNonces(name)).toEqual(before);
    vault.close();
    await expectReadableWith(name, PASSPHRASE, NEW_PASSPHRASE);
  });

  it('carries a corrupt record over unchanged instead of failing the change', async () => {
    const name = freshDbName();
    const vault = await populatedVault(name);
    const db = rawDb(name);
    const row = await db.keys.get('dev-0/vol-3/1');
    if (!row) throw new Error('missing row');
    row.ciphertext[0] ^= 0xff;
    await db.keys.put(row);
    db.close();
    await vault.changePassphrase(PASSPHRASE, NEW_PASSPHRASE);
    await expectVaultError(vault.getKey('dev-0', 'vol-3'), 'record_corrupt');
    expect((await vault.getKey('dev-1', 'vol-4'))?.key).toBe(KEYS[4].key);
  });
});
