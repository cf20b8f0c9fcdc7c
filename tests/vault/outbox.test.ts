import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from '../../utils/vault/index.ts';
import { freshDbName, openTestVault, PASSPHRASE, rawDb, testClock } from './helpers.ts';

describe('outbox', () => {
  it('queues offline reveals while locked, once per idempotency key', async () => {
    const clock = testClock();
    const vault = await openTestVault(freshDbName(), { now: clock.now });
    await vault.setup(PASSPHRASE);
    vault.lock();
    const payload = { volumeId: 'disk1', version: 3, at: '2026-11-22T12:00:00.000Z' };
    const id = await vault.enqueue({ kind: 'offline_reveal', deviceId: 'mac', payload, idempotencyKey: 'reveal-0001' });
    expect(id).toBe('reveal-0001');
    await vault.enqueue({ kind: 'offline_reveal', deviceId: 'mac', payload, idempotencyKey: 'reveal-0001' });
    clock.advance(1000);
    const generated = await vault.enqueue({ kind: 'offline_reveal', deviceId: 'pc', payload });
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(await vault.outboxSize()).toBe(2);
    const due = await vault.due();
    expect(due.map((e) => [e.id, e.deviceId, e.payload.version, e.attempts])).toEqual([
      ['reveal-0001', 'mac', 3, 0],
      [generated, 'pc', 3, 0],
    ]);
    await vault.markDone('reveal-0001');
    expect((await vault.due()).map((e) => e.id)).toEqual([generated]);
  });

  it('backs off after each failure and retries when the time comes', async () => {
    const clock = testClock();
    const vault = await openTestVault(freshDbName(), { now: clock.now });
    await vault.setup(PASSPHRASE);
    const id = await vault.enqueue({ kind: 'offline_reveal', deviceId: 'mac', payload: { volumeId: 'disk1' } });
    const doubling = (attempts: number) => 1000 * 2 ** (attempts - 1);

    await vault.markFailed(id, 'network down', doubling);
    expect(await vault.due()).toEqual([]);
    clock.advance(999);
    expect(await vault.due()).toEqual([]);
    clock.advance(1);
    const [entry] = await vault.due();
    expect(entry).toMatchObject({ id, attempts: 1, lastError: 'network down' });

    await vault.markFailed(id, 'HTTP 503', doubling);
    clock.advance(1999);
    expect(await vault.due()).toEqual([]);
    clock.advance(1);
    expect((await vault.due())[0]).toMatchObject({ attempts: 2, lastError: 'HTTP 503' });

    await vault.markFailed(id); // default: exponential with jitter
    expect(await vault.due()).toEqual([]);
    clock.advance(4 * 60_000);
    expect((await vault.due())[0]?.attempts).toBe(3);
  });

  it('default backoff grows from about 30 s and stays under about an hour', () => {
    for (let i = 0; i < 50; i++) {
      expect(exponentialBackoff(1)).toBeGreaterThanOrEqual(24_000);
      expect(exponentialBackoff(1)).toBeLessThanOrEqual(36_000);
      expect(exponentialBackoff(3)).toBeGreaterThanOrEqual(96_000);
      expect(exponentialBackoff(3)).toBeLessThanOrEqual(144_000);
      expect(exponentialBackoff(30)).toBeLessThanOrEqual(72 * 60_000);
    }
  });

  it('queues and hands out offline-reveal reports whether the vault is locked or not, holding no key', async () => {
    const name = freshDbName();
    const clock = testClock();
    const vault = await openTestVault(name, { now: clock.now });
    await vault.setup(PASSPHRASE);
    const key = 'AU2APHMKWBGXPWKXM3X3VAPY';
    await vault.putKey({ deviceId: 'mac', volumeId: 'disk1', kind: 'filevault', version: 1, key });
    await vault.enqueue({ kind: 'offline_reveal', deviceId: 'mac', payload: { volumeId: 'disk1', version: 1 }, idempotencyKey: 'reveal-0001' });
    clock.advance(1000);
    vault.lock();
    await vault.enqueue({ kind: 'offline_reveal', deviceId: 'mac', payload: { volumeId: 'disk1', version: 1 }, idempotencyKey: 'reveal-0002' });

    const db = rawDb(name);
    const rows = await db.outbox.toArray();
    db.close();
    expect(JSON.stringify(rows)).not.toContain(key);
    expect((await vault.due()).map((e) => e.id)).toEqual(['reveal-0001', 'reveal-0002']);
  });
});
