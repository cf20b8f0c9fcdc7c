/** The agent's task handling beyond the happy path (SIMULATED volumes, in-memory escrow service). */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { Agent } from '../../agent/agent.ts';
import { DiskError, type DiskDriver } from '../../agent/drivers/driver.ts';
import { createSimulatedVolume, readSimulatedVolume, SimulatedDriver } from '../../agent/drivers/simulated.ts';
import { Journal } from '../../agent/journal.ts';
import { FakeEscrow } from './fake-escrow.ts';

let dir: string;
let escrow: FakeEscrow;
let lines: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-tasks-'));
  escrow = new FakeEscrow();
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function agentWith(driver: DiskDriver): Agent {
  return new Agent({ api: escrow.api(), driver, journal: new Journal(join(dir, 'journal')), log: (l) => lines.push(l) });
}

describe('agent tasks', () => {
  it('BitLocker volume with no key escrowed: an IT rotation first uploads the password on the disk, then rotates it (seed 004)', async () => {
    const password = generateRecoveryKey('bitlocker');
    createSimulatedVolume(join(dir, 'v'), { ref: 'C:', name: 'C:', keyKind: 'bitlocker', key: password });
    escrow.queue('rotate', 'C:');
    await agentWith(new SimulatedDriver({ dir: join(dir, 'v'), keyKind: 'bitlocker' })).checkInOnce();
    expect(escrow.keys('C:', ['retired'])).toEqual([password]);
    const active = escrow.keys('C:', ['active']);
    expect(active).toHaveLength(1);
    expect(readSimulatedVolume(join(dir, 'v'), 'C:').slots.map((s) => s.key)).toEqual(active);
    for (const line of lines) expect(line).not.toContain(password);
  });

  it('a rotation without any usable key on a platform that cannot read keys back fails with a reason, disk untouched', async () => {
    const key = generateRecoveryKey('luks');
    createSimulatedVolume(join(dir, 'v'), { ref: 'disk0', name: 'Data', keyKind: 'luks', key });
    const sim = new SimulatedDriver({ dir: join(dir, 'v'), keyKind: 'luks' });
    const unreadable: DiskDriver = Object.assign(Object.create(sim) as SimulatedDriver, { readExistingKeys: async () => [] });
    escrow.addActive('disk0', generateRecoveryKey('luks'));
    escrow.queue('rotate', 'disk0');
    await agentWith(unreadable).checkInOnce();
    expect(escrow.ops[0]).toMatchObject({ state: 'failed', result: 'error' });
    expect(lines.join('\n')).toContain('the escrowed key does not unlock the volume, and no key can be read from the disk');
    expect(readSimulatedVolume(join(dir, 'v'), 'disk0').slots.map((s) => s.key)).toEqual([key]);
  });

  it('a disk failure while adding the new key fails the operation, rejects the pending key and keeps the old key', async () => {
    const key = generateRecoveryKey('luks');
    createSimulatedVolume(join(dir, 'v'), { ref: 'disk0', name: 'Data', keyKind: 'luks', key });
    const sim = new SimulatedDriver({ dir: join(dir, 'v'), keyKind: 'luks' });
    const broken: DiskDriver = Object.assign(Object.create(sim) as SimulatedDriver, { addKey: async () => { throw new DiskError('No space left in the LUKS2 key slot area'); } });
    escrow.addActive('disk0', key);
    escrow.queue('rotate', 'disk0');
    await agentWith(broken).checkInOnce();
    expect(escrow.ops[0]).toMatchObject({ state: 'failed', result: 'error' });
    expect(escrow.versions.map((v) => v.state)).toEqual(['active', 'rejected']);
    expect(escrow.keys('disk0', ['active'])).toEqual([key]);
    expect(readSimulatedVolume(join(dir, 'v'), 'disk0').slots.map((s) => s.key)).toEqual([key]);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });

  it('reports its volumes at check-in, with BitLocker protector ids only for BitLocker', async () => {
    createSimulatedVolume(join(dir, 'fv'), { ref: 'disk3s1', name: 'Macintosh HD', keyKind: 'filevault', key: generateRecoveryKey('filevault') });
    expect(await agentWith(new SimulatedDriver({ dir: join(dir, 'fv'), keyKind: 'filevault' })).volumeReports()).toEqual([{ ref: 'disk3s1', name: 'Macintosh HD', encrypted: true, protectorIds: [] }]);
    expect(escrow.checkins).toBe(0);
    await agentWith(new SimulatedDriver({ dir: join(dir, 'fv'), keyKind: 'filevault' })).checkInOnce();
    expect(escrow.checkins).toBe(1);
  });

  it('an operation cancelled on the service mid-way is skipped with the disk untouched, and the next task still runs', async () => {
    const keyA = generateRecoveryKey('luks');
    const keyB = generateRecoveryKey('luks');
    createSimulatedVolume(join(dir, 'v'), { ref: 'a', name: 'A', keyKind: 'luks', key: keyA });
    createSimulatedVolume(join(dir, 'v'), { ref: 'b', name: 'B', keyKind: 'luks', key: keyB });
    escrow.addActive('a', keyA);
    escrow.addActive('b', keyB);
    const cancelled = escrow.queue('rotate', 'a');
    escrow.queue('rotate', 'b');
    const real = escrow.api();
    const api = { ...real, escrowPending: async (id: string, body: { key: string }) => {
      if (id === cancelled.id) await real.complete(id, { result: 'error', detail: 'cancelled by IT' });
      return real.escrowPending(id, body);
    } };
    await new Agent({ api, driver: new SimulatedDriver({ dir: join(dir, 'v'), keyKind: 'luks' }), journal: new Journal(join(dir, 'journal')), log: (l) => lines.push(l) }).checkInOnce();
    expect(readSimulatedVolume(join(dir, 'v'), 'a').slots.map((s) => s.key)).toEqual([keyA]);
    expect(escrow.keys('a', ['active'])).toEqual([keyA]);
    const rotatedB = escrow.keys('b', ['active']);
    expect(rotatedB).toHaveLength(1);
    expect(rotatedB[0]).not.toBe(keyB);
    expect(readSimulatedVolume(join(dir, 'v'), 'b').slots.map((s) => s.key)).toEqual(rotatedB);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });
});
