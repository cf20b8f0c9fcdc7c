/**
 * Escrow before commit, under crashes: the rotation is killed after each durable step
 * (and inside steps, after the side effect but before the journal write). At every such
 * point some key the service holds must unlock the volume, and the next run must repair to
 * a clean state: one key on the disk, and it is the service's active key. The volume is a
 * SIMULATED FileVault-style one, where the key a user types is the escrowed recovery key and is
 * itself rotated (a LUKS passphrase never is: see luks-own-slot.test.ts).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { Agent, type RotationStep } from '../../agent/agent.ts';
import type { AgentApi } from '../../agent/api-client.ts';
import type { DiskDriver } from '../../agent/drivers/driver.ts';
import { createSimulatedVolume, readSimulatedVolume, SimulatedDriver } from '../../agent/drivers/simulated.ts';
import { Journal } from '../../agent/journal.ts';
import { FakeEscrow } from './fake-escrow.ts';

class Crash extends Error {}

const REF = 'disk0';
let dir: string;
let escrow: FakeEscrow;
let oldKey: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-crash-'));
  escrow = new FakeEscrow();
  oldKey = generateRecoveryKey('filevault');
  createSimulatedVolume(join(dir, 'volumes'), { ref: REF, name: 'Data', keyKind: 'filevault', key: oldKey });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function driver(): SimulatedDriver {
  return new SimulatedDriver({ dir: join(dir, 'volumes'), keyKind: 'filevault' });
}

/** A fresh agent process: new objects over the same state dir and volume files. */
function agent(options: { api?: AgentApi; disk?: DiskDriver; onStep?: (step: RotationStep) => void } = {}): Agent {
  return new Agent({ api: options.api ?? escrow.api(), driver: options.disk ?? driver(), journal: new Journal(join(dir, 'journal')), onStep: options.onStep });
}

function diskKeys(): string[] {
  return readSimulatedVolume(join(dir, 'volumes'), REF).slots.map((s) => s.key);
}

/** The invariant: some key the service holds (candidate, pending or active) unlocks the disk. */
function assertSomeEscrowedKeyUnlocks(): void {
  const held = escrow.keys(REF, ['candidate', 'pending', 'active']);
  expect(diskKeys().some((k) => held.includes(k))).toBe(true);
}

function assertCleanAfterRepair(): void {
  const active = escrow.keys(REF, ['active']);
  expect(active).toHaveLength(1);
  expect(diskKeys()).toEqual(active);
  expect(active[0]).not.toBe(oldKey);
  expect(escrow.keys(REF, ['pending', 'candidate'])).toEqual([]);
  expect(escrow.keys(REF, ['retired'])).toContain(oldKey);
  expect(escrow.ops.every((o) => o.state === 'succeeded')).toBe(true);
  expect(readdirSync(join(dir, 'journal'))).toEqual([]);
}

const STEPS: RotationStep[] = ['escrowed', 'added', 'verified', 'completed'];
const FLOWS = [
  { name: 'rotate (current key as authority)', setUp: () => { escrow.addActive(REF, oldKey); escrow.queue('rotate', REF); } },
  { name: 'verify-and-rotate (user-submitted candidate)', setUp: () => { escrow.storeCandidate(REF, oldKey); } },
];

describe.each(FLOWS)('crash during $name', ({ setUp }) => {
  it.each(STEPS)('killed right after step "%s": an escrowed key still unlocks, and the next run repairs', async (crashAfter) => {
    setUp();
    const steps: RotationStep[] = [];
    const crashing = agent({
      onStep: (step) => {
        steps.push(step);
        assertSomeEscrowedKeyUnlocks();
        if (step === crashAfter) throw new Crash(`killed after ${step}`);
      },
    });
    await expect(crashing.checkInOnce()).rejects.toThrow(Crash);
    assertSomeEscrowedKeyUnlocks();
    expect(diskKeys()).toContain(oldKey); // the old key is never gone before completion + removal
    expect(readdirSync(join(dir, 'journal'))).toHaveLength(1);

    const resumed: RotationStep[] = [];
    await agent({ onStep: (step) => { resumed.push(step); assertSomeEscrowedKeyUnlocks(); } }).checkInOnce();
    expect([...steps, ...resumed]).toEqual(['escrowed', 'added', 'verified', 'completed', 'removed']);
    assertCleanAfterRepair();
  });
});

describe('crash inside a step, after its effect but before the journal records it', () => {
  it('escrow reached the service but the answer was lost: the repair re-escrows the same key, no duplicate', async () => {
    escrow.addActive(REF, oldKey);
    escrow.queue('rotate', REF);
    const real = escrow.api();
    const lossy: AgentApi = { ...real, escrowPending: async (id, body) => { await real.escrowPending(id, body); throw new Crash('killed before the answer was journaled'); } };
    await expect(agent({ api: lossy }).checkInOnce()).rejects.toThrow(Crash);
    assertSomeEscrowedKeyUnlocks();
    await agent().checkInOnce();
    assertCleanAfterRepair();
    expect(escrow.versions.filter((v) => v.state === 'rejected')).toEqual([]);
  });

  it('the key was added on disk but not journaled: the repair sees it already unlocks and does not add it twice', async () => {
    escrow.addActive(REF, oldKey);
    escrow.queue('rotate', REF);
    const disk = driver();
    const dying: DiskDriver = Object.assign(Object.create(disk) as SimulatedDriver, {
      addKey: async (ref: string, authority: string, key: string | null) => {
        await disk.addKey(ref, authority, key);
        throw new Crash('killed after the add');
      },
    });
    await expect(agent({ disk: dying }).checkInOnce()).rejects.toThrow(Crash);
    assertSomeEscrowedKeyUnlocks();
    expect(diskKeys()).toHaveLength(2);
    await agent().checkInOnce();
    assertCleanAfterRepair();
  });

  it('completion reached the service but the answer was lost: the repair completes again and removes the old key', async () => {
    escrow.addActive(REF, oldKey);
    escrow.queue('rotate', REF);
    const real = escrow.api();
    const lossy: AgentApi = { ...real, complete: async (id, body) => { await real.complete(id, body); throw new Crash('killed before the answer was journaled'); } };
    await expect(agent({ api: lossy }).checkInOnce()).rejects.toThrow(Crash);
    assertSomeEscrowedKeyUnlocks();
    expect(diskKeys()).toContain(oldKey);
    await agent().checkInOnce();
    assertCleanAfterRepair();
  });

  it('the service is unreachable during the repair: nothing is removed, and a later run finishes', async () => {
    escrow.addActive(REF, oldKey);
    escrow.queue('rotate', REF);
    await expect(agent({ onStep: (s) => { if (s === 'verified') throw new Crash('killed'); } }).checkInOnce()).rejects.toThrow(Crash);
    const down: AgentApi = { ...escrow.api(), complete: async () => { throw new Error('connect ECONNREFUSED'); } };
    await expect(agent({ api: down }).checkInOnce()).rejects.toThrow(/ECONNREFUSED/);
    expect(diskKeys()).toContain(oldKey);
    assertSomeEscrowedKeyUnlocks();
    await agent().checkInOnce();
    assertCleanAfterRepair();
  });

  it('the operation was failed on the service while the agent was down: the new key is taken off the disk, the old one stays', async () => {
    escrow.addActive(REF, oldKey);
    const op = escrow.queue('rotate', REF);
    await expect(agent({ onStep: (s) => { if (s === 'verified') throw new Crash('killed'); } }).checkInOnce()).rejects.toThrow(Crash);
    await escrow.api().complete(op.id, { result: 'error', detail: 'cancelled by IT' });
    await agent().checkInOnce();
    expect(diskKeys()).toEqual([oldKey]);
    expect(escrow.keys(REF, ['active'])).toEqual([oldKey]);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
  });
});
