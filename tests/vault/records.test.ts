import { describe, expect, it } from 'vitest';
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
    const { vault } = await vaultWithTwoKeys();
    await vault.putDevices([device('mac', 'MacBook'), device('pc', 'ThinkPad')], 'c1');
    await vault.putDevices([device('mac', 'MacBook Pro', { keyStatus: 'pending' })], 'c2');
    expect((await vault.listDevices()).map((d) => [d.id, d.name, d.keyStatus])).toEqual([
      ['mac', 'MacBook Pro', 'pending'],
      ['pc', 'ThinkPad', 'escrowed'],
    ]);
    await vault.putDevices([device('mac', 'MacBook Pro')], 'c3', { fullSync: true });
    expect((await vault.listDevices()).map((d) => d.id)).toEqual(['mac']);
    expect((await vault.listKeyVersions()).map((k) => k.deviceId)).toEqual(['mac']);
    expect((await vault.syncState())?.cursor).toBe('c3');
  });
});
