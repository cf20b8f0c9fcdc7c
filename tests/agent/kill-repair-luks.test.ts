/**
 * The invariant with real processes, a real LUKS2 container and the real service: the agent
 * CLI is SIGKILLed right after each rotation step (KEYWARD_AGENT_CRASH_AFTER_STEP). At that
 * moment some key the service holds must open the container (checked with cryptsetup), and
 * the next `run --once` must leave exactly the service's active key on the container.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { LuksDriver, parseLuksKeySlots, TEST_ONLY_FAST_KDF } from '../../agent/drivers/luks.ts';
import { runCommand } from '../../agent/drivers/run-command.ts';
import { startLiveService, type LiveService } from './live-service.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../agent/cli.ts');
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

async function newContainer(name: string, passphrase: string): Promise<string> {
  const path = join(work, `${name}.img`);
  writeFileSync(path, '');
  truncateSync(path, 20 * 1024 * 1024);
  const result = await runCommand('/usr/sbin/cryptsetup', ['luksFormat', '--type', 'luks2', '--batch-mode', ...TEST_ONLY_FAST_KDF, path], `${passphrase}\n`);
  expect(result.code).toBe(0);
  return path;
}

describe.each(['escrowed', 'added', 'verified', 'completed'])('agent SIGKILLed right after step "%s" (real LUKS2 container, real service)', (step) => {
  it('an escrowed key opens the container at the crash, and the next run repairs to exactly the active key', async () => {
    const oldKey = generateRecoveryKey('luks');
    const container = await newContainer(step, oldKey);
    const luks = new LuksDriver({ volumes: [container] });
    const stateDir = join(work, `state-${step}`);
    const enrolled = await run(process.execPath, [CLI, 'enroll', '--server', service.server.url, '--token', await service.enrollToken('personal', step), '--driver', 'luks', '--volume', container, '--test-fast-kdf', '--state-dir', stateDir]);
    const deviceId = /device (\S+)/.exec(enrolled.stdout)?.[1] ?? '';
    expect((await service.api('POST', `/devices/${deviceId}/keys`, { key: oldKey, confirmKey: oldKey })).status).toBe(202);

    const crashed = await run(process.execPath, [CLI, 'run', '--once', '--state-dir', stateDir], { env: { ...process.env, KEYWARD_AGENT_CRASH_AFTER_STEP: step } }).then(() => null, (error: { signal?: string; stderr?: string }) => error);
    expect(crashed?.signal).toBe('SIGKILL');
    expect(crashed?.stderr).toContain(`step ${step} done`);
    expect(crashed?.stderr).not.toContain(oldKey);

    const held = (await service.heldKeys(deviceId)).filter((k) => ['candidate', 'pending', 'active'].includes(k.state));
    const opening = [];
    for (const k of held) if (await luks.verifyKey(container, k.key)) opening.push(k);
    expect(opening.length).toBeGreaterThan(0);
    expect(await luks.verifyKey(container, oldKey)).toBe(true);

    const repaired = await run(process.execPath, [CLI, 'run', '--once', '--state-dir', stateDir]);
    expect(repaired.stderr).toContain('continuing unfinished rotation');
    expect(repaired.stderr).toContain('rotation finished');

    const after = await service.heldKeys(deviceId);
    const active = after.filter((k) => k.state === 'active');
    expect(active).toHaveLength(1);
    expect(after.filter((k) => k.state === 'pending' || k.state === 'candidate')).toEqual([]);
    expect(await luks.verifyKey(container, active[0].key)).toBe(true);
    expect(await luks.verifyKey(container, oldKey)).toBe(false);
    const dump = await runCommand('/usr/sbin/cryptsetup', ['luksDump', '--dump-json-metadata', container]);
    expect(parseLuksKeySlots(dump.stdout)).toHaveLength(1);
    expect(readdirSync(join(stateDir, 'journal'))).toEqual([]);
    const device = await service.api('GET', `/devices/${deviceId}`);
    expect(device.body).toMatchObject({ keyStatus: 'escrowed', notice: { message: 'M4' } });
  });
});
