import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_KDF, openVault } from '../../utils/vault/index.ts';
import { device, expectVaultError, freshDbName, openTestVault, PASSPHRASE, rawDb, testClock, TEST_KDF } from './helpers.ts';

const KEY = 'AU2APHMKWBGXPWKXM3X3VAPY';

async function snapshot(name: string) {
  const db = rawDb(name);
  const rows = { keys: await db.keys.toArray(), devices: await db.devices.toArray(), outbox: await db.outbox.toArray(), vault: await db.meta.get('vault') };
  db.close();
  return rows;
}

describe('vault setup and unlock', () => {
  it('is uninitialized until setup, then unlocked, and unlocks again after lock', async () => {
    const vault = await openTestVault();
    expect(await vault.isInitialized()).toBe(false);
    await expectVaultError(vault.unlock(PASSPHRASE), 'not_initialized');
    await vault.setup(PASSPHRASE);
    expect(await vault.isInitialized()).toBe(true);
    expect(vault.isUnlocked()).toBe(true);
    await vault.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 1, key: KEY });
    vault.lock();
    expect(vault.isUnlocked()).toBe(false);
    await vault.unlock(PASSPHRASE);
    expect((await vault.getKey('d1', 'v1'))?.key).toBe(KEY);
    await expectVaultError(vault.setup('another passphrase'), 'already_initialized');
  });

  it('refuses a passphrase shorter than 8 characters', async () => {
    const vault = await openTestVault();
    await expectVaultError(vault.setup('short'), 'passphrase_too_short');
    expect(await vault.isInitialized()).toBe(false);
  });

  it('sets up with scrypt N=2^17, r=8, p=1 by default and unlocks with it', async () => {
    const name = freshDbName();
    const vault = await openVault(name);
    const progress: number[] = [];
    await vault.setup(PASSPHRASE, (f) => progress.push(f));
    expect(progress.at(-1)).toBe(1);
    const db = rawDb(name);
    const meta = await db.meta.get('vault');
    db.close();
    expect(meta?.name === 'vault' && meta.kdf).toEqual({ N: 2 ** 17, r: 8, p: 1, dkLen: 32 });
    expect(DEFAULT_KDF).toEqual({ N: 2 ** 17, r: 8, p: 1, dkLen: 32 });
    vault.lock();
    await vault.unlock(PASSPHRASE);
    expect(vault.isUnlocked()).toBe(true);
  });

  it('refuses to unlock a vault whose stored scrypt parameters are below the floor', async () => {
    const name = freshDbName();
    const weak = await openTestVault(name);
    await weak.setup(PASSPHRASE);
    await weak.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 1, key: KEY });
    weak.close();

    const vault = await openVault(name); // production options: no test KDF
    const error = await expectVaultError(vault.unlock(PASSPHRASE), 'kdf_too_weak');
    expect(error.message).toContain('N=1024');
    expect(vault.isUnlocked()).toBe(false);
    await expectVaultError(vault.getKey('d1', 'v1'), 'locked');
  });

  it('refuses a downgrade of each parameter written into the database', async () => {
    for (const weaker of [{ N: 2 ** 9 }, { r: 4 }, { dkLen: 16 }]) {
      const name = freshDbName();
      const vault = await openTestVault(name);
      await vault.setup(PASSPHRASE);
      vault.lock();
      const db = rawDb(name);
      const meta = await db.meta.get('vault');
      if (meta?.name !== 'vault') throw new Error('no vault meta');
      await db.meta.put({ ...meta, kdf: { ...TEST_KDF, ...weaker } });
      db.close();
      await expectVaultError(vault.unlock(PASSPHRASE), 'kdf_too_weak');
    }
  });

  it('rejects a wrong passphrase without changing any data', async () => {
    const name = freshDbName();
    const vault = await openTestVault(name);
    await vault.setup(PASSPHRASE);
    await vault.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 1, key: KEY });
    await vault.putDevices([device('d1', 'MacBook')]);
    await vault.enqueue({ kind: 'offline_reveal', deviceId: 'd1', payload: { volumeId: 'v1', version: 1 } });
    vault.lock();
    const before = await snapshot(name);
    const error = await expectVaultError(vault.unlock('not the passphrase'), 'wrong_passphrase');
    expect(error.lockedOutUntil).toBeNull();
    expect(vault.isUnlocked()).toBe(false);
    expect(await snapshot(name)).toEqual(before);
    expect((await vault.status()).failedAttempts).toBe(1);
  });

  it('locks out for longer after each further wrong passphrase, and never wipes the vault', async () => {
    const clock = testClock();
    const vault = await openTestVault(freshDbName(), { now: clock.now });
    await vault.setup(PASSPHRASE);
    await vault.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 1, key: KEY });
    vault.lock();

    await expectVaultError(vault.unlock('wrong 1'), 'wrong_passphrase');
    await expectVaultError(vault.unlock('wrong 2'), 'wrong_passphrase');
    const third = await expectVaultError(vault.unlock('wrong 3'), 'wrong_passphrase');
    expect(third.lockedOutUntil).toBe(clock.t + 10_000);

    // While locked out even the right passphrase is refused, without deriving anything.
    const out = await expectVaultError(vault.unlock(PASSPHRASE), 'locked_out');
    expect(out.lockedOutUntil).toBe(clock.t + 10_000);
    expect((await vault.status()).lockedOutUntil).toBe(clock.t + 10_000);

    clock.advance(10_000);
    const fourth = await expectVaultError(vault.unlock('wrong 4'), 'wrong_passphrase');
    expect(fourth.lockedOutUntil).toBe(clock.t + 20_000);
    clock.advance(19_999);
    await expectVaultError(vault.unlock(PASSPHRASE), 'locked_out');
    clock.advance(1);
    const fifth = await expectVaultError(vault.unlock('wrong 5'), 'wrong_passphrase');
    expect(fifth.lockedOutUntil).toBe(clock.t + 40_000);

    clock.advance(40_000);
    await vault.unlock(PASSPHRASE);
    expect((await vault.getKey('d1', 'v1'))?.key).toBe(KEY);
    expect(await vault.status()).toMatchObject({ failedAttempts: 0, lockedOutUntil: null });
    vault.lock();
    await expectVaultError(vault.unlock('wrong again'), 'wrong_passphrase'); // counter was reset: no lockout
  });

  it('keeps the lockout across a service-worker restart (a new Vault on the same database)', async () => {
    const clock = testClock();
    const name = freshDbName();
    const vault = await openTestVault(name, { now: clock.now });
    await vault.setup(PASSPHRASE);
    vault.lock();
    for (const guess of ['a wrong one', 'another one', 'third guess']) await expectVaultError(vault.unlock(guess), 'wrong_passphrase');
    vault.close();
    const restarted = await openTestVault(name, { now: clock.now });
    await expectVaultError(restarted.unlock(PASSPHRASE), 'locked_out');
  });
});

describe('reset after a forgotten passphrase', () => {
  it('deletes the cached keys, the passphrase and the lockout; keeps device statuses and offline-reveal reports', async () => {
    const clock = testClock();
    const name = freshDbName();
    const vault = await openTestVault(name, { now: clock.now });
    await vault.setup(PASSPHRASE);
    await vault.putDevices([device('d1', 'Corporate Mac')]);
    await vault.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 1, key: KEY });
    await vault.enqueue({ kind: 'offline_reveal', deviceId: 'd1', payload: { volumeId: 'v1', version: 1 }, idempotencyKey: 'reveal-1' });
    vault.lock();
    for (const guess of ['a wrong one', 'another one', 'third guess']) await expectVaultError(vault.unlock(guess), 'wrong_passphrase');
    await expectVaultError(vault.unlock(PASSPHRASE), 'locked_out');

    await vault.reset();
    expect(await vault.isInitialized()).toBe(false);
    expect(await vault.status()).toMatchObject({ unlocked: false, failedAttempts: 0, lockedOutUntil: null });
    const rows = await snapshot(name);
    expect(rows.keys).toEqual([]);
    expect(rows.vault).toBeUndefined();
    expect(rows.outbox.map((row) => row.id)).toEqual(['reveal-1']);
    expect((await vault.listDevices()).map((d) => d.id)).toEqual(['d1']);

    await vault.setup('a new passphrase');
    expect(await vault.getKey('d1', 'v1')).toBeNull();
  });
});

describe('lock and session', () => {
  it('lock zeroes the data key in memory and makes keys unreadable', async () => {
    // The data key is drawn with crypto.getRandomValues; watching the buffers it fills shows
    // the one the vault keeps, without any hook in the vault.
    const drawn: Uint8Array[] = [];
    const draw = crypto.getRandomValues.bind(crypto);
    const spy = vi.spyOn(crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      const filled = draw(array as never) as T;
      if (filled instanceof Uint8Array && filled.length === 32) drawn.push(filled);
      return filled;
    });
    const vault = await openTestVault(freshDbName());
    try {
      await vault.setup(PASSPHRASE);
    } finally {
      spy.mockRestore();
    }
    await vault.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 1, key: KEY });
    expect(drawn.length).toBeGreaterThanOrEqual(2);
    expect(drawn.every((buffer) => buffer.some((b) => b !== 0))).toBe(true);
    vault.lock();
    // Exactly one 32-byte draw of setup is wiped by lock (the data key; the salt is public).
    expect(drawn.filter((buffer) => buffer.every((b) => b === 0))).toHaveLength(1);
    await expectVaultError(vault.getKey('d1', 'v1'), 'locked');
    await expectVaultError(() => vault.exportSessionKey(), 'locked');
    await expectVaultError(vault.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 2, key: KEY }), 'locked');
  });

  it('lists devices while locked', async () => {
    const vault = await openTestVault();
    await vault.setup(PASSPHRASE);
    await vault.putDevices([device('d2', 'ThinkPad', { platform: 'windows', keyKind: 'bitlocker', keyStatus: 'missing' }), device('d1', 'MacBook')]);
    vault.lock();
    const devices = await vault.listDevices();
    expect(devices.map((d) => [d.name, d.keyStatus])).toEqual([['MacBook', 'escrowed'], ['ThinkPad', 'missing']]);
    expect((await vault.getDevice('d2'))?.keyKind).toBe('bitlocker');
    expect(await vault.listKeyVersions()).toEqual([]);
  });

  it('resumes from an exported session key after a restart, and not with a wrong one', async () => {
    const name = freshDbName();
    const vault = await openTestVault(name);
    await vault.setup(PASSPHRASE);
    await vault.putKey({ deviceId: 'd1', volumeId: 'v1', kind: 'filevault', version: 1, key: KEY });
    const sessionKey = vault.exportSessionKey();
    vault.close();

    const restarted = await openTestVault(name);
    expect(restarted.isUnlocked()).toBe(false);
    await restarted.resumeFromSessionKey(sessionKey);
    expect((await restarted.getKey('d1', 'v1'))?.key).toBe(KEY);

    const other = await openTestVault(name);
    const wrong = sessionKey.slice();
    wrong[0] ^= 1;
    await expectVaultError(other.resumeFromSessionKey(wrong), 'session_invalid');
    await expectVaultError(other.resumeFromSessionKey(new Uint8Array(16)), 'session_invalid');
    expect(other.isUnlocked()).toBe(false);
  });
});
