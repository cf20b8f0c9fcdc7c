/**
 * Real disk layouts, each with real cryptsetup on file-backed containers, the real CLI and the
 * real service: the person's passphrase in any key slot; LUKS1 as well as LUKS2; several LUKS
 * volumes on one device next to a non-LUKS member (skipped and reported, the others escrowed);
 * systemd-cryptenroll tokens (TPM2) left intact; a volume followed by its LUKS UUID, so a
 * renamed device path keeps its history.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { enrolledDeviceId, runCli } from './cli-run.ts';
import { addKey, addTpm2Token, keySlots, newContainer, opens, tokens, uuidOf } from './luks-containers.ts';
import { startLiveService, type LiveService } from './live-service.ts';

// Each test runs the CLI several times as real processes (seconds each on a busy machine).
vi.setConfig({ testTimeout: 240_000 });

let service: LiveService;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keyward-layouts-'));
  service = await startLiveService();
});
afterAll(async () => {
  await service.stop();
  rmSync(work, { recursive: true, force: true });
});

type VolumeView = { id: string; name: string; keyStatus: string; encrypted?: boolean };

async function enroll(name: string, volumes: string[], passphrases: string[], extra: string[] = []): Promise<{ deviceId: string; stateDir: string; stdout: string }> {
  const stateDir = join(work, `state-${name}`);
  const result = await runCli(['enroll', '--server', service.server.url, '--token', await service.enrollToken('corporate', name), ...volumes.flatMap((v) => ['--volume', v]), '--name', name, '--state-dir', stateDir, ...extra], { stdin: passphrases.map((p) => `${p}\n`).join('') });
  expect(result.code, result.stderr).toBe(0);
  return { deviceId: enrolledDeviceId(result), stateDir, stdout: result.stdout };
}

async function rotateOnce(deviceId: string, stateDir: string, volumeId?: string): Promise<void> {
  expect((await service.api('POST', `/devices/${deviceId}/rotate`, volumeId ? { volumeId } : {})).status).toBe(202);
  const ran = await runCli(['run', '--once', '--state-dir', stateDir]);
  expect(ran.code, ran.stderr).toBe(0);
}

async function activeKeys(deviceId: string): Promise<string[]> {
  return (await service.heldKeys(deviceId)).filter((k) => k.state === 'active').map((k) => k.key);
}

async function volumes(deviceId: string): Promise<VolumeView[]> {
  return (await service.api('GET', `/devices/${deviceId}`)).body.volumes as VolumeView[];
}

describe('LUKS layouts (real cryptsetup, real service)', () => {
  it.each([
    { layout: 'LUKS2, passphrase in key slot 5', type: 'luks2' as const, slot: 5 },
    { layout: 'LUKS1', type: 'luks1' as const, slot: undefined },
  ])('$layout: enroll and rotate keep the passphrase and leave exactly one escrowed slot', async ({ layout, type, slot }) => {
    const passphrase = `passphrase for ${layout}`;
    const container = await newContainer(work, `layout-${type}-${slot ?? 0}`, passphrase, { type, slot });
    const before = await keySlots(container);
    expect(before).toEqual([String(slot ?? 0)]);
    const { deviceId, stateDir } = await enroll(`layout-${type}`, [container], [passphrase]);
    await rotateOnce(deviceId, stateDir);
    const [active] = await activeKeys(deviceId);
    expect(await opens(container, active)).toBe(true);
    expect(await opens(container, passphrase)).toBe(true);
    const after = await keySlots(container);
    expect(after).toHaveLength(2);
    expect(after).toContain(String(slot ?? 0));
  });

  it('two LUKS volumes with their own passphrases and a plain member: both escrowed, the plain one skipped and shown as not encrypted', async () => {
    const [p1, p2] = ['first disk passphrase', 'second disk passphrase'];
    const a = await newContainer(work, 'multi-a', p1);
    const b = await newContainer(work, 'multi-b', p2);
    const plain = join(work, 'multi-plain.img');
    writeFileSync(plain, Buffer.alloc(2 * 1024 * 1024));
    const { deviceId, stateDir, stdout } = await enroll('multi', [a, plain, b], [p1, p2]);
    expect(stdout).toContain(`skipped ${plain}: not a LUKS volume`);
    const device = await service.api('GET', `/devices/${deviceId}`);
    expect(device.body.keyStatus).toBe('escrowed');
    const views = await volumes(deviceId);
    expect(views.map((v) => [v.name, v.keyStatus, v.encrypted]).sort()).toEqual([[a, 'escrowed', true], [b, 'escrowed', true], [plain, 'missing', false]].sort());
    const keys = await activeKeys(deviceId);
    expect(keys).toHaveLength(2);
    expect(await opens(a, p1)).toBe(true);
    expect(await opens(b, p2)).toBe(true);
    expect((await Promise.all(keys.map(async (k) => (await opens(a, k)) || (await opens(b, k))))).every(Boolean)).toBe(true);

    await rotateOnce(deviceId, stateDir, views.find((v) => v.name === b)?.id);
    expect(await opens(b, p2)).toBe(true);
    expect(await keySlots(b)).toHaveLength(2);
    const page = await service.api('GET', `/devices/${deviceId}`);
    expect(page.body.keyStatus).toBe('escrowed');
  });

  it('a systemd-cryptenroll TPM2 token and its key slot stay untouched through enrollment and rotations', async () => {
    const passphrase = 'passphrase next to a TPM2 slot';
    const tpmKey = generateRecoveryKey('luks');
    const container = await newContainer(work, 'tpm', passphrase);
    await addKey(container, passphrase, tpmKey, 1);
    await addTpm2Token(container, work, '1');
    const tokensBefore = await tokens(container);
    const { deviceId, stateDir } = await enroll('tpm', [container], [passphrase]);
    await rotateOnce(deviceId, stateDir);
    await rotateOnce(deviceId, stateDir);
    expect(await tokens(container)).toEqual(tokensBefore);
    expect(await opens(container, tpmKey)).toBe(true);
    expect(await opens(container, passphrase)).toBe(true);
    const slots = await keySlots(container);
    expect(slots).toHaveLength(3);
    expect(slots.slice(0, 2)).toEqual(['0', '1']);
    const [active] = await activeKeys(deviceId);
    expect(await opens(container, active)).toBe(true);
  });

  it('a volume is followed by its LUKS UUID: after its device path changes, the service still has one volume, with its history, under the new name', async () => {
    const passphrase = 'passphrase of a disk that moves';
    const container = await newContainer(work, 'moving', passphrase);
    const uuid = await uuidOf(container);
    // What udev keeps up to date for real block devices: /dev/disk/by-uuid/<uuid> → the device.
    const uuidDir = join(work, 'by-uuid');
    mkdirSync(uuidDir, { recursive: true });
    symlinkSync(container, join(uuidDir, uuid));
    const { deviceId, stateDir } = await enroll('moving', [container], [passphrase], ['--uuid-dir', uuidDir]);
    expect(JSON.parse(readFileSync(join(stateDir, 'agent.json'), 'utf8')).volumes).toEqual([`UUID=${uuid}`]);
    const [before] = await volumes(deviceId);
    const [firstKey] = await activeKeys(deviceId);

    const moved = join(work, 'moved-elsewhere.img');
    renameSync(container, moved);
    unlinkSync(join(uuidDir, uuid));
    symlinkSync(moved, join(uuidDir, uuid));
    await rotateOnce(deviceId, stateDir);
    const after = await volumes(deviceId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before.id, name: moved, keyStatus: 'escrowed' });
    const held = await service.heldKeys(deviceId);
    expect(held.map((k) => k.state)).toEqual(['retired', 'active']);
    expect(held[0].key).toBe(firstKey);
    expect(await opens(moved, held[1].key)).toBe(true);
  });
});
