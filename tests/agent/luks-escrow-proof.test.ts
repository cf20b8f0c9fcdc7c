/**
 * Continuous proof that the escrowed key still opens a real LUKS2 disk, with the real CLI and
 * the real service. Someone removes the escrowed key slot (`cryptsetup luksKillSlot`) or changes
 * it (`luksChangeKey`): the next check-in's cheap check sees it, the console says "Escrowed key
 * no longer works" with what to do, `run --once` exits 3, and `keyward-agent repair` (the
 * person's passphrase, typed on the device) escrows a new key slot. When the agent has nothing
 * to compare with, the full check on the policy's interval finds it. A rotation asked for
 * meanwhile fails with a cause the owner can act on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_ONLY_FAST_KDF } from './fast-kdf.ts';
import { t } from '../../lib/i18n/index.ts';
import { enrolledDeviceId, runCli } from './cli-run.ts';
import { cryptsetup, keySlots, newContainer, opens } from './luks-containers.ts';
import { startLiveService, type LiveService } from './live-service.ts';

// Each test runs the CLI several times as real processes (seconds each on a busy machine).
vi.setConfig({ testTimeout: 240_000 });

let service: LiveService;
let everyCheckin: LiveService;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keyward-proof-'));
  service = await startLiveService();
  // Full checks due at every check-in.
  everyCheckin = await startLiveService({ keyCheckHours: 0 });
});
afterAll(async () => {
  await service.stop();
  await everyCheckin.stop();
  rmSync(work, { recursive: true, force: true });
});

type Enrolled = { deviceId: string; stateDir: string; container: string; passphrase: string; escrowSlot: string };

async function enrolled(on: LiveService, name: string): Promise<Enrolled> {
  const passphrase = `boot passphrase of ${name}`;
  const container = await newContainer(work, name, passphrase);
  const stateDir = join(work, `state-${name}`);
  const result = await runCli(['enroll', '--server', on.server.url, '--token', await on.enrollToken('corporate', name), '--volume', container, '--state-dir', stateDir], { stdin: `${passphrase}\n` });
  expect(result.code, result.stderr).toBe(0);
  const slots = await keySlots(container);
  expect(slots).toEqual(['0', '1']);
  return { deviceId: enrolledDeviceId(result), stateDir, container, passphrase, escrowSlot: '1' };
}

async function volumeView(on: LiveService, deviceId: string): Promise<{ keyStatus: string; escrowProblem: string | null }> {
  const device = await on.api('GET', `/devices/${deviceId}`);
  return (device.body.volumes as { keyStatus: string; escrowProblem: string | null }[])[0];
}

describe('the escrowed LUKS key is proved at every check-in (real cryptsetup, real service)', () => {
  it('a removed escrow slot is reported at the next check-in (exit 3, console "no longer works"), and `repair` escrows a new slot with the person’s passphrase', async () => {
    const d = await enrolled(service, 'killed');
    expect((await runCli(['run', '--once', '--state-dir', d.stateDir])).code).toBe(0);
    // The person removes the escrowed slot, authorized by their own passphrase.
    await cryptsetup(['luksKillSlot', d.container, d.escrowSlot], `${d.passphrase}\n`);

    const ran = await runCli(['run', '--once', '--state-dir', d.stateDir]);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('the escrowed key no longer works');
    expect(ran.stderr).toContain('keyward-agent repair');
    expect(await volumeView(service, d.deviceId)).toMatchObject({ keyStatus: 'broken', escrowProblem: 'slot_removed' });
    const status = await runCli(['status', '--state-dir', d.stateDir]);
    expect(status.stdout).toContain('ESCROWED KEY NO LONGER WORKS (slot_removed)');

    // Without the person's passphrase nothing can be repaired; with it, a new escrowed slot.
    const noPassphrase = await runCli(['repair', '--state-dir', d.stateDir], { stdin: 'wrong passphrase\n' });
    expect(noPassphrase.code).toBe(2);
    expect(noPassphrase.stderr).toContain('does not open');
    const repaired = await runCli(['repair', '--state-dir', d.stateDir], { stdin: `${d.passphrase}\n` });
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('escrowed a new recovery key');
    expect(await volumeView(service, d.deviceId)).toMatchObject({ keyStatus: 'escrowed', escrowProblem: null });
    const active = (await service.heldKeys(d.deviceId)).filter((k) => k.state === 'active');
    expect(active).toHaveLength(1);
    expect(await opens(d.container, active[0].key)).toBe(true);
    expect(await opens(d.container, d.passphrase)).toBe(true);
    expect(await keySlots(d.container)).toHaveLength(2);
    expect((await runCli(['run', '--once', '--state-dir', d.stateDir])).code).toBe(0);
    expect(await service.auditActions(d.deviceId)).toEqual(expect.arrayContaining(['key.escrow_broken', 'escrow.started', 'key.escrow_restored']));
    // Nothing left to repair: repair says so and changes nothing.
    const nothing = await runCli(['repair', '--state-dir', d.stateDir]);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain('the escrowed key works; nothing to repair');
  });

  it('a changed escrow slot (luksChangeKey) is reported as changed, and a rotation asked for meanwhile fails with a cause the owner can act on', async () => {
    const d = await enrolled(service, 'changed');
    const escrowed = (await service.heldKeys(d.deviceId)).filter((k) => k.state === 'active')[0].key;
    await cryptsetup(['luksChangeKey', '--batch-mode', ...TEST_ONLY_FAST_KDF, d.container], `${escrowed}\nsomething the person chose\n`);
    expect((await service.api('POST', `/devices/${d.deviceId}/rotate`, {})).status).toBe(202);

    const ran = await runCli(['run', '--once', '--state-dir', d.stateDir]);
    expect(ran.code).toBe(3);
    expect(await volumeView(service, d.deviceId)).toMatchObject({ keyStatus: 'broken', escrowProblem: 'slot_changed' });
    const device = await service.api('GET', `/devices/${d.deviceId}`);
    expect(device.body).toMatchObject({ notice: { message: 'M3', cause: 'escrowed_key_rejected' } });
    expect(t('en', 'flow.M3.escrowed_key_rejected')).toContain('keyward-agent repair');
    expect(await opens(d.container, d.passphrase)).toBe(true);
    expect(await keySlots(d.container)).toEqual(['0', '1']);
  });

  it('a slot whose metadata changed but still holds the escrowed key (luksConvertKey) is proved by a full check at once and not reported as broken', async () => {
    const d = await enrolled(service, 'converted');
    const escrowed = (await service.heldKeys(d.deviceId)).filter((k) => k.state === 'active')[0].key;
    await cryptsetup(['luksConvertKey', '--batch-mode', '--key-slot', d.escrowSlot, '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '2000', d.container], `${escrowed}\n`);
    const ran = await runCli(['run', '--once', '--state-dir', d.stateDir]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toContain('full check of the escrowed key: it opens the volume');
    expect(await volumeView(service, d.deviceId)).toMatchObject({ keyStatus: 'escrowed', escrowProblem: null });
    const fetches = (await service.auditActions(d.deviceId)).filter((a) => a === 'key.device_verification').length;
    // The new fingerprint is recorded: the next check-in's cheap check is content, nothing is fetched.
    expect((await runCli(['run', '--once', '--state-dir', d.stateDir])).code).toBe(0);
    expect((await service.auditActions(d.deviceId)).filter((a) => a === 'key.device_verification')).toHaveLength(fetches);
  });

  it('with nothing to compare with (state lost), the full check on the policy interval finds a key that no longer opens the disk', async () => {
    const d = await enrolled(everyCheckin, 'lost-state');
    rmSync(join(d.stateDir, 'escrow-records.json'));
    const proved = await runCli(['run', '--once', '--state-dir', d.stateDir]);
    expect(proved.code, proved.stderr).toBe(0);
    expect(proved.stderr).toContain('full check of the escrowed key: it opens the volume');
    // The full check found the slot again: the cheap check works again too.
    rmSync(join(d.stateDir, 'escrow-records.json'));
    await cryptsetup(['luksKillSlot', d.container, d.escrowSlot], `${d.passphrase}\n`);

    const ran = await runCli(['run', '--once', '--state-dir', d.stateDir]);
    expect(ran.code).toBe(3);
    expect(ran.stderr).toContain('it NO LONGER opens the volume');
    expect(await volumeView(everyCheckin, d.deviceId)).toMatchObject({ keyStatus: 'broken', escrowProblem: 'key_rejected' });
    const actions = await everyCheckin.auditActions(d.deviceId);
    expect(actions.filter((a) => a === 'key.device_verification').length).toBeGreaterThanOrEqual(2);
    expect(actions).toContain('key.escrow_broken');
  });
});
