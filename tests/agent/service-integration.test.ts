/**
 * The agent against the real escrow service over HTTP (127.0.0.1, port 0, SQLite in a temp
 * dir): enroll with a one-time token through the CLI, a user stores the key of the
 * (SIMULATED) disk through the API, one `keyward-agent run --once` verifies and rotates it.
 * Also the simulated fleet: escrow at enrollment, and a restart that re-uses the credential.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { readSimulatedVolume, simulatedSerialNumber } from '../../agent/drivers/simulated.ts';
import { startSimulatedFleet } from '../../agent/simulated-fleet.ts';
import { startLiveService, type LiveService } from './live-service.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../agent/cli.ts');

let service: LiveService;
let work: string;

function api(method: string, path: string, body?: unknown) {
  return service.api(method, path, body);
}

async function token(ownership: 'corporate' | 'personal', label: string): Promise<string> {
  return service.enrollToken(ownership, label);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keyward-agent-state-'));
  service = await startLiveService();
});

afterAll(async () => {
  await service.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('keyward-agent against the real escrow service', () => {
  it('enroll → the user stores the disk key → one check-in verifies, rotates, escrows; the disk holds exactly the active key', async () => {
    const stateDir = join(work, 'cli');
    const enroll = await run(process.execPath, [CLI, 'enroll', '--server', service.server.url, '--token', await token('personal', 'cli mac'), '--driver', 'simulated', '--kind', 'filevault', '--volume', 'disk1s1', '--name', 'Test Mac', '--state-dir', stateDir]);
    const deviceId = /device (\S+)/.exec(enroll.stdout)?.[1] ?? '';
    expect(deviceId).not.toBe('');
    expect(enroll.stdout).toContain('SIMULATED');
    expect(statSync(join(stateDir, 'credential')).mode & 0o777).toBe(0o600);

    const volumes = join(stateDir, 'simulated-volumes');
    const diskKey = readSimulatedVolume(volumes, 'disk1s1').slots[0].key;
    const stored = await api('POST', `/devices/${deviceId}/keys`, { key: diskKey, confirmKey: diskKey });
    expect(stored.status).toBe(202);

    const checkin = await run(process.execPath, [CLI, 'run', '--once', '--state-dir', stateDir]);
    expect(checkin.stderr).toContain('step removed done');
    for (const line of checkin.stderr.trim().split('\n')) expect(line).toContain('SIMULATED');
    expect(checkin.stderr + checkin.stdout).not.toContain(diskKey);

    const slots = readSimulatedVolume(volumes, 'disk1s1').slots;
    expect(slots).toHaveLength(1);
    expect(slots[0].key).not.toBe(diskKey);
    expect(checkin.stderr + checkin.stdout).not.toContain(slots[0].key);

    const device = await api('GET', `/devices/${deviceId}`);
    expect(device.body).toMatchObject({ keyStatus: 'escrowed', notice: { message: 'M4' }, serialNumber: simulatedSerialNumber('Test Mac') });
    expect(await service.heldKeys(deviceId)).toEqual([{ state: 'retired', key: diskKey }, { state: 'active', key: slots[0].key }]);
    const revealed = await api('POST', `/devices/${deviceId}/reveal`, {});
    expect(revealed.status).toBe(200);
    expect(String(revealed.body.key).replace(/-/g, '')).toBe(slots[0].key);

    const status = await run(process.execPath, [CLI, 'status', '--state-dir', stateDir]);
    expect(status.stdout).toContain(deviceId);
    expect(status.stdout).toContain('SIMULATED');
    expect(status.stdout).toContain('rotations: none unfinished');
  });

  it('a wrong key typed by the user fails the operation with wrong_key, leaves the disk alone, and `run --once` exits 3', async () => {
    const stateDir = join(work, 'wrong');
    const enroll = await run(process.execPath, [CLI, 'enroll', '--server', service.server.url, '--token', await token('personal', 'wrong mac'), '--driver', 'simulated', '--kind', 'filevault', '--volume', 'disk1s1', '--state-dir', stateDir]);
    const deviceId = /device (\S+)/.exec(enroll.stdout)?.[1] ?? '';
    const diskKey = readSimulatedVolume(join(stateDir, 'simulated-volumes'), 'disk1s1').slots[0].key;
    const wrong = generateRecoveryKey('filevault');
    expect((await api('POST', `/devices/${deviceId}/keys`, { key: wrong, confirmKey: wrong })).status).toBe(202);
    // The operation failed, so `run --once` says so with exit code 3 (it used to exit 0).
    const once = await run(process.execPath, [CLI, 'run', '--once', '--state-dir', stateDir]).then(() => ({ code: 0, stderr: '' }), (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }));
    expect(once.code).toBe(3);
    expect(once.stderr).toContain('1 operation(s) failed');
    const device = await api('GET', `/devices/${deviceId}`);
    expect(device.body).toMatchObject({ notice: { message: 'M3', cause: 'wrong_key' } });
    expect(readSimulatedVolume(join(stateDir, 'simulated-volumes'), 'disk1s1').slots.map((s) => s.key)).toEqual([diskKey]);
  });

  it('the simulated fleet escrows `escrowed: true` volumes at enrollment, rotates on request, and a restart re-uses its credential', async () => {
    const stateDir = join(work, 'fleet');
    const macKey = generateRecoveryKey('filevault');
    const specs = [
      { name: 'Fleet Mac', platform: 'macos' as const, keyKind: 'filevault' as const, enrollToken: await token('corporate', 'fleet mac'), volumes: [{ ref: 'disk3s1', name: 'Macintosh HD', initialKey: macKey, escrowed: true }] },
      { name: 'Fleet PC', platform: 'windows' as const, keyKind: 'bitlocker' as const, enrollToken: await token('corporate', 'fleet pc'), volumes: [{ ref: 'C:', name: 'C:', escrowed: true }, { ref: 'D:', name: 'D:', escrowed: false }] },
    ];
    const fleet = await startSimulatedFleet({ serverUrl: service.server.url, stateDir, devices: specs, checkinIntervalMs: 60_000 });
    const [mac, pc] = fleet.devices;
    expect(mac.volumes[0].currentKey()).toBe(macKey);
    const macView = await api('GET', `/devices/${mac.deviceId}`);
    expect(macView.body).toMatchObject({ keyStatus: 'escrowed', serialNumber: simulatedSerialNumber('Fleet Mac') });
    const pcView = (await api('GET', `/devices/${pc.deviceId}`)).body as { volumes: { name: string; keyStatus: string; protectorIds: string[] }[] };
    const c = pcView.volumes.find((v) => v.name === 'C:');
    expect(c?.keyStatus).toBe('escrowed');
    expect(c?.protectorIds).toHaveLength(1);
    expect(pcView.volumes.find((v) => v.name === 'D:')?.keyStatus).toBe('missing');

    expect((await api('POST', `/devices/${mac.deviceId}/rotate`, {})).status).toBe(202);
    await mac.checkInNow();
    const rotated = mac.volumes[0].currentKey();
    expect(rotated).not.toBe(macKey);
    const revealed = await api('POST', `/devices/${mac.deviceId}/reveal`, {});
    expect(String(revealed.body.key).replace(/-/g, '')).toBe(rotated);

    // BitLocker: IT-style rotation of C: adds a new numerical password, deletes the old protector
    const cVolume = (pcView.volumes as unknown as { id: string; name: string }[]).find((v) => v.name === 'C:');
    const oldPassword = pc.volumes[0].currentKey();
    expect((await api('POST', `/devices/${pc.deviceId}/rotate`, { volumeId: cVolume?.id })).status).toBe(202);
    await pc.checkInNow();
    const newPassword = pc.volumes[0].currentKey();
    expect(newPassword).not.toBe(oldPassword);
    const cSlots = readSimulatedVolume(join(stateDir, 'Fleet_20PC', 'simulated-volumes'), 'C:').slots;
    expect(cSlots.map((s) => s.key)).toEqual([newPassword]);
    const pcRevealed = await api('POST', `/devices/${pc.deviceId}/reveal`, { volumeId: cVolume?.id });
    expect(String(pcRevealed.body.key).replace(/-/g, '')).toBe(newPassword);
    // The new protector's ID, known only after the add, reached the service with the completion.
    const newProtectorId = cSlots[0].id;
    const rotatedView = (await api('GET', `/devices/${pc.deviceId}`)).body as { volumes: { name: string; protectorIds: string[] }[] };
    expect(rotatedView.volumes.find((v) => v.name === 'C:')?.protectorIds).toEqual([newProtectorId]);
    const byProtector = await api('POST', `/devices/${pc.deviceId}/reveal`, { volumeId: cVolume?.id, protectorId: newProtectorId });
    expect(byProtector.body).toMatchObject({ protectorId: newProtectorId });
    expect(String(byProtector.body.key).replace(/-/g, '')).toBe(newPassword);
    await fleet.stop();

    // restart: the one-time tokens are spent, so this only works if the credential is re-used
    const again = await startSimulatedFleet({ serverUrl: service.server.url, stateDir, devices: specs, checkinIntervalMs: 60_000 });
    expect(again.devices.map((d) => d.deviceId)).toEqual([mac.deviceId, pc.deviceId]);
    expect(again.devices[0].volumes[0].currentKey()).toBe(rotated);
    await again.stop();
    const devices = (await api('GET', '/devices')).body as { devices: unknown[] };
    expect(devices.devices).toHaveLength(4);
  });
});
