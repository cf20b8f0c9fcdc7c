/**
 * The invariant with real processes, a real LUKS2 container and the real service: the agent
 * CLI is SIGKILLed right after each step of the escrow it makes at enrollment, and of a later
 * rotation (KEYWARD_AGENT_CRASH_AFTER_STEP, which only the tests' entry agent-cli-for-tests.ts
 * reads). At that moment the person's passphrase opens the container, and so does some key the
 * service holds once one is escrowed (checked with cryptsetup); the next `run --once` leaves
 * exactly the service's active key next to the person's passphrase.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { enrolledDeviceId, runCli } from './cli-run.ts';
import { expectNoSecretIn, keySlots, newContainer, opens } from './luks-containers.ts';
import { startLiveService, type LiveService } from './live-service.ts';

// Each test runs the CLI several times as real processes (seconds each on a busy machine).
vi.setConfig({ testTimeout: 240_000 });

let service: LiveService;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keyward-kill-'));
  service = await startLiveService();
});
afterAll(async () => {
  await service.stop();
  rmSync(work, { recursive: true, force: true });
});

async function activeKey(deviceId: string): Promise<string> {
  const active = (await service.heldKeys(deviceId)).filter((k) => k.state === 'active');
  expect(active).toHaveLength(1);
  return active[0].key;
}

/** After repair: the active key and the passphrase open the container, nothing else is on it, nothing is unfinished. */
async function expectRepaired(deviceId: string, container: string, passphrase: string, stateDir: string): Promise<string> {
  const held = await service.heldKeys(deviceId);
  expect(held.filter((k) => k.state === 'pending' || k.state === 'candidate')).toEqual([]);
  const active = await activeKey(deviceId);
  expect(await opens(container, active)).toBe(true);
  expect(await opens(container, passphrase)).toBe(true);
  expect(await keySlots(container)).toHaveLength(2);
  expect(readdirSync(join(stateDir, 'journal'))).toEqual([]);
  return active;
}

describe.each(['escrowed', 'added', 'verified', 'completed'])('agent SIGKILLed right after step "%s" (real LUKS2 container, real service)', (step) => {
  it('at enrollment and in a rotation, the passphrase and an escrowed key open the container at the crash, and the next run repairs', async () => {
    const passphrase = `my own passphrase ${step} ${generateRecoveryKey('luks').slice(0, 8)}`;
    const container = await newContainer(work, step, passphrase);
    const stateDir = join(work, `state-${step}`);
    const crash = { KEYWARD_AGENT_CRASH_AFTER_STEP: step };

    const enrolled = await runCli(['enroll', '--server', service.server.url, '--token', await service.enrollToken('personal', step), '--volume', container, '--state-dir', stateDir], { stdin: `${passphrase}\n`, env: crash });
    expect(enrolled.signal).toBe('SIGKILL');
    expect(enrolled.stderr).toContain(`step ${step} done`);
    expectNoSecretIn(enrolled.stdout + enrolled.stderr, passphrase);
    const deviceId = enrolledDeviceId(enrolled);
    expect(await opens(container, passphrase)).toBe(true);

    const afterEnroll = await runCli(['run', '--once', '--state-dir', stateDir]);
    expect(afterEnroll.code, afterEnroll.stderr).toBe(0);
    expect(afterEnroll.stderr).toContain('continuing unfinished rotation');
    const escrowed = await expectRepaired(deviceId, container, passphrase, stateDir);

    expect((await service.api('POST', `/devices/${deviceId}/rotate`, {})).status).toBe(202);
    const crashed = await runCli(['run', '--once', '--state-dir', stateDir], { env: crash });
    expect(crashed.signal).toBe('SIGKILL');
    expectNoSecretIn(crashed.stdout + crashed.stderr, passphrase, escrowed);
    const held = (await service.heldKeys(deviceId)).filter((k) => ['pending', 'active'].includes(k.state));
    const opening = [];
    for (const k of held) if (await opens(container, k.key)) opening.push(k);
    expect(opening.length).toBeGreaterThan(0);
    expect(await opens(container, passphrase)).toBe(true);

    const repaired = await runCli(['run', '--once', '--state-dir', stateDir]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stderr).toContain('rotation finished');
    const rotated = await expectRepaired(deviceId, container, passphrase, stateDir);
    expect(rotated).not.toBe(escrowed);
    expect(await opens(container, escrowed)).toBe(false);
    const device = await service.api('GET', `/devices/${deviceId}`);
    expect(device.body).toMatchObject({ keyStatus: 'escrowed', notice: { message: 'M4' } });
  });
});
