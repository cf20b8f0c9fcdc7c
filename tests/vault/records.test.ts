import { Dexie } from 'dexie';
import { describe, expect, it, vi } from 'vitest';
import { device, expectVaultError, freshDbName, openTestVault, PASSPHRASE, rawDb } from './helpers.ts';

const FV = 'AU2APHMKWBGXPWKXM3X3VAPY';
const BL = '123453-234564-345675-456786-567897-678908-789919-891021'.replace(/-/g, '');

async function vaultWithTwoKeys() {
  const name = freshDbName();
  const vault = await openTestVault(name);
  await vault.setup(PASSPHRASE);
  await vault.putKey({ deviceId: 'mac', volumeId: 'disk1', kind: 'filevault', version: 3, key: FV });
  await vault.putKey({ deviceId: 'pc', volumeId: 'C:', kind: 'bitlocker', version: 1, key: BL, protectorId: '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}' });
  return { name, vault };
}

describe('encrypted key records', () => {
  it('stores keys encrypted and returns the newest version', async () => {
    const { name, vault } = await vaultWithTwoKeys();
    await vault.putKey({ deviceId: 'mac', volumeId: 'disk1', kind: 'filevault', version: 2, key: 'OLDKEYOLDKEYOLDKEYOLDKEY' });
    const got = await vault.getKey('mac', 'disk1');
    expect(got).toMatchObject({ deviceId: 'mac', volumeId: 'disk1', kind: 'filevault', version: 3, key: FV, protectorId: null });
    expect((await vault.getKey('pc', 'C:'))?.protectorId).toBe('{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}');
    expect(await vault.getKey('mac', 'disk9')).toBeNull();

    const db = rawDb(name);
    const rows = await db.keys.toArray();
    db.close();
    expect(rows).toHaveLength(3);
    const stored = new TextDecoder('latin1').decode(rows.find((r) => r.version === 3)?.ciphertext);
    expect(stored).not.toContain(FV);
    expect(new Set(rows.map((r) => Buffer.from(r.nonce).toString('hex'))).size).toBe(3);
    expect(rows.every((r) => r.nonce.length === 24)).toBe(true);
  });

  it('refuses a record with a flipped ciphertext byte and still serves the others', async () => {
    const { name, vault } = await vaultWithTwoKeys();
    const db = rawDb(name);
    const row = await db.keys.get('mac/disk1/3');
    if (!row) throw new Error('missing row');
    row.ciphertext[5] ^= 0x01;
    await db.keys.put(row);
    db.close();
    const error = await expectVaultError(vault.getKey('mac', 'disk1'), 'record_corrupt');
    expect(error.recordId).toBe('mac/disk1/3');
    expect(error.message).not.toContain(FV);
    expect((await vault.getKey('pc', 'C:'))?.key).toBe(BL);
  });

  it('refuses a record moved to another device, volume, version or kind', async () => {
    const { name, vault } = await vaultWithTwoKeys();
    const db = rawDb(name);
    const original = await db.keys.get('mac/disk1/3');
    if (!original) throw new Error('missing row');
    await db.keys.put({ ...original, id: 'pc/C:/9', deviceId: 'pc', volumeId: 'C:', version: 9 });
    await db.keys.put({ ...original, id: 'mac/disk2/3', volumeId: 'disk2' });
    await db.keys.put({ ...original, id: 'mac/disk3/3', volumeId: 'disk3' });
    await db.keys.put({ ...original, id: 'mac/disk3/4', volumeId: 'disk3', version: 4, kind: 'luks' });
    db.close();
    await expectVaultError(vault.getKey('pc', 'C:'), 'record_corrupt');
    await expectVaultError(vault.getKey('mac', 'disk2'), 'record_corrupt');
    await expectVaultError(vault.getKey('mac', 'disk3'), 'record_corrupt');
    expect((await vault.getKey('mac', 'disk1'))?.key).toBe(FV);
  });

  it('rejects incomplete key records', async () => {
    const { vault } = await vaultWithTwoKeys();
    await expectVaultError(vault.putKey({ deviceId: '', volumeId: 'v', kind: 'luks', version: 1, key: 'x' }), 'invalid_input');
    await expectVaultError(vault.putKey({ deviceId: 'd', volumeId: 'v', kind: 'luks', version: 1.5, key: 'x' }), 'invalid_input');
    await expectVaultError(vault.putKey({ deviceId: 'd', volumeId: 'v', kind: 'luks', version: 1, key: '' }), 'invalid_input');
  });

  it('deletes cached keys for one device or all of them', async () => {
    const { vault } = await vaultWithTwoKeys();
    await vault.deleteKeys('pc');
    expect(await vault.getKey('pc', 'C:')).toBeNull();
    expect((await vault.getKey('mac', 'disk1'))?.key).toBe(FV);
    await vault.deleteKeys();
    expect(await vault.listKeyVersions()).toEqual([]);
  });
});

describe('device metadata', () => {
  it('updates devices incrementally and removes vanished ones (and their keys) on a full sync', async () => {
    const { name, vault } = await vaultWithTwoKeys();
    await vault.putDevices([device('mac', 'MacBook'), device('pc', 'ThinkPad')]);
    await vault.putDevices([device('mac', 'MacBook Pro', { keyStatus: 'pending' })]);
    expect((await vault.listDevices()).map((d) => [d.id, d.name, d.keyStatus])).toEqual([
      ['mac', 'MacBook Pro', 'pending'],
      ['pc', 'ThinkPad', 'escrowed'],
    ]);
    await vault.putDevices([device('mac', 'MacBook Pro')], { fullSync: true });
    expect((await vault.listDevices()).map((d) => d.id)).toEqual(['mac']);
    expect((await vault.listKeyVersions()).map((k) => k.deviceId)).toEqual(['mac']);
    // The sync cursor is the extension's sync status, not a vault row.
    const db = rawDb(name);
    expect(await db.meta.toCollection().primaryKeys()).not.toContain('sync');
    db.close();
  });

  it('refreshes one cached device, writing only when something in it changed', async () => {
    const { name, vault } = await vaultWithTwoKeys();
    await vault.putDevices([device('mac', 'MacBook')]);
    // Every IndexedDB write to the devices store, as the browser's API sees it.
    const deviceWrites: unknown[] = [];
    const put = IDBObjectStore.prototype.put;
    const spy = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'devices') deviceWrites.push(value);
      return put.call(this, value, key);
    });
    try {
      // The same device again (as each poll of an unchanged portal page brings it), key order aside.
      const same = device('mac', 'MacBook');
      const reordered = Object.fromEntries(Object.entries(same).reverse()) as typeof same;
      expect(await vault.updateDevice(reordered)).toBe(false);
      expect(deviceWrites).toEqual([]);

      expect(await vault.updateDevice(device('mac', 'MacBook', { keyStatus: 'pending', updatedAt: '2026-11-22T11:00:00.000Z' }))).toBe(true);
      expect(deviceWrites).toHaveLength(1);
      expect((await vault.getDevice('mac'))?.keyStatus).toBe('pending');
      // A device the vault does not cache is not added by a refresh.
      expect(await vault.updateDevice(device('other', 'Other'))).toBe(false);
      expect(deviceWrites).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
    const db = rawDb(name);
    expect((await db.devices.get('mac'))?.keyStatus).toBe('pending');
    expect(await db.devices.get('other')).toBeUndefined();
    db.close();
  });

  it('drops the unused sync-cursor row of a version-1 database when it opens', async () => {
    const name = freshDbName();
    const v1 = new Dexie(name, { indexedDB, IDBKeyRange });
    v1.version(1).stores({ devices: 'id, updatedAt', keys: 'id, [deviceId+volumeId], deviceId', outbox: 'id, nextAttemptAt', meta: 'name' });
    await v1.table('meta').bulkPut([{ name: 'sync', cursor: 'c9', syncedAt: 1 }, { name: 'unlock', failedAttempts: 2, lockedOutUntil: 0 }]);
    await v1.table('devices').put(device('mac', 'MacBook'));
    v1.close();

    const vault = await openTestVault(name);
    expect((await vault.listDevices()).map((d) => d.id)).toEqual(['mac']);
    expect((await vault.status()).failedAttempts).toBe(2);
    const db = rawDb(name);
    expect((await db.meta.toCollection().primaryKeys()).sort()).toEqual(['unlock']);
    db.close();
    vault.close();
  });
});
