import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { DiskError } from '../../agent/drivers/driver.ts';
import { createSimulatedVolume, readSimulatedVolume, SimulatedDriver } from '../../agent/drivers/simulated.ts';

let dir: string;
let lines: string[];
let driver: SimulatedDriver;
const oldKey = generateRecoveryKey('filevault');
const newKey = generateRecoveryKey('filevault');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-sim-'));
  lines = [];
  driver = new SimulatedDriver({ dir, keyKind: 'filevault', log: (l) => lines.push(l) });
  createSimulatedVolume(dir, { ref: 'disk1s1', name: 'Macintosh HD', keyKind: 'filevault', key: oldKey });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SIMULATED driver', () => {
  it('lists the fake volume as encrypted and says SIMULATED in its file, status and every log line', async () => {
    expect(await driver.listVolumes()).toEqual([{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true, protectorIds: [] }]);
    expect(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')).toContain('SIMULATED');
    expect(driver.describe()).toMatch(/^SIMULATED driver/);
    await driver.verifyKey('disk1s1', oldKey);
    await driver.addKey('disk1s1', oldKey, newKey);
    await driver.removeKey('disk1s1', { key: oldKey, protectorId: null }, newKey);
    expect(lines.length).toBe(3);
    for (const line of lines) {
      expect(line).toMatch(/^\[SIMULATED\] /);
      expect(line).not.toContain(oldKey);
      expect(line).not.toContain(newKey);
    }
  });

  it('verifies only the key on the volume, adds and removes keys, and persists them to the file', async () => {
    expect(await driver.verifyKey('disk1s1', oldKey)).toBe(true);
    expect(await driver.verifyKey('disk1s1', newKey)).toBe(false);
    const added = await driver.addKey('disk1s1', oldKey, newKey);
    expect(added).toEqual({ protectorId: 'slot-1', key: newKey });
    expect(readSimulatedVolume(dir, 'disk1s1').slots.map((s) => s.key)).toEqual([oldKey, newKey]);
    await driver.removeKey('disk1s1', { key: oldKey, protectorId: null }, newKey);
    const reopened = new SimulatedDriver({ dir, keyKind: 'filevault' });
    expect(await reopened.verifyKey('disk1s1', oldKey)).toBe(false);
    expect(await reopened.verifyKey('disk1s1', newKey)).toBe(true);
    // atomic writes leave no temp files behind
    expect(readdirSync(dir)).toEqual([`disk1s1.volume.json`]);
  });

  it('refuses to add with a key that does not unlock, and never removes the last working key', async () => {
    await expect(driver.addKey('disk1s1', newKey, generateRecoveryKey('filevault'))).rejects.toThrow(DiskError);
    await expect(driver.removeKey('disk1s1', { key: oldKey, protectorId: null }, newKey)).rejects.toThrow(/remaining key does not unlock/);
    await expect(driver.removeKey('disk1s1', { key: oldKey, protectorId: null }, oldKey)).rejects.toThrow(DiskError);
    expect(await driver.verifyKey('disk1s1', oldKey)).toBe(true);
  });

  it('adding the same key twice keeps one slot (a repeated step after a crash is harmless)', async () => {
    await driver.addKey('disk1s1', oldKey, newKey);
    await driver.addKey('disk1s1', oldKey, newKey);
    expect(readSimulatedVolume(dir, 'disk1s1').slots).toHaveLength(2);
  });

  it('as a BitLocker stand-in, reports GUID protector ids and reads the numerical passwords back', async () => {
    const bl = new SimulatedDriver({ dir, keyKind: 'bitlocker' });
    const password = generateRecoveryKey('bitlocker');
    createSimulatedVolume(dir, { ref: 'C:', name: 'C:', keyKind: 'bitlocker', key: password });
    const volume = (await bl.listVolumes()).find((v) => v.ref === 'C:');
    expect(volume?.protectorIds).toHaveLength(1);
    expect(volume?.protectorIds[0]).toMatch(/^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/);
    expect(await bl.readExistingKeys('C:')).toEqual([{ protectorId: volume?.protectorIds[0], key: password }]);
  });
});
