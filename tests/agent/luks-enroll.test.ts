/**
 * Enrolling a real LUKS2 container with the real CLI against the real service: the agent adds a
 * recovery key of its own in a new key slot and escrows it; the person's passphrase opens the
 * disk after enrollment and after every rotation, and never reaches the service. Before the
 * one-time token is spent, the agent checks that it runs as root, that each volume exists, is
 * readable and is LUKS, and that the passphrase opens it; any failure leaves the token usable.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { enrolledDeviceId, runCli } from './cli-run.ts';
import { expectNoSecretIn, keySlots, newContainer, opens } from './luks-containers.ts';
import { startLiveService, type LiveService } from './live-service.ts';

// Each test runs the CLI several times as real processes (seconds each on a busy machine).
vi.setConfig({ testTimeout: 240_000 });

const NOBODY = 65534;
let service: LiveService;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keyward-luks-enroll-'));
  chmodSync(work, 0o755);
  service = await startLiveService();
});
afterAll(async () => {
  await service.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('keyward-agent enroll on a real LUKS disk', () => {
  it('adds its own escrowed key slot; the person’s passphrase opens the disk after enrollment and after every rotation, and never reaches the service', async () => {
    const passphrase = 'the passphrase I type at every boot';
    const container = await newContainer(work, 'laptop', passphrase);
    const stateDir = join(work, 'state-laptop');
    const enrolled = await runCli(['enroll', '--server', service.server.url, '--token', await service.enrollToken('personal', 'laptop'), '--volume', container, '--name', 'Laptop', '--state-dir', stateDir], { stdin: `${passphrase}\n` });
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain('escrowed a recovery key for');
    expect(enrolled.stdout).toContain('your passphrase still opens it');
    expectNoSecretIn(enrolled.stdout + enrolled.stderr, passphrase);
    const deviceId = enrolledDeviceId(enrolled);

    expect(await opens(container, passphrase)).toBe(true);
    expect(await keySlots(container)).toEqual(['0', '1']);
    let escrowed = (await service.heldKeys(deviceId)).filter((k) => k.state === 'active')[0].key;
    expect(await opens(container, escrowed)).toBe(true);
    const view = await service.api('GET', `/devices/${deviceId}`);
    expect(view.body).toMatchObject({ keyStatus: 'escrowed', platform: 'linux', keyKind: 'luks' });
    const [volume] = view.body.volumes as { name: string; keyVerifiedAt: string | null }[];
    expect(volume.name).toBe(container);
    expect(volume.keyVerifiedAt).toEqual(expect.any(String));

    for (let round = 1; round <= 3; round++) {
      expect((await service.api('POST', `/devices/${deviceId}/rotate`, {})).status).toBe(202);
      const ran = await runCli(['run', '--once', '--state-dir', stateDir]);
      expect(ran.code, ran.stderr).toBe(0);
      const active = (await service.heldKeys(deviceId)).filter((k) => k.state === 'active');
      expect(active).toHaveLength(1);
      expect(active[0].key).not.toBe(escrowed);
      expect(await opens(container, active[0].key)).toBe(true);
      expect(await opens(container, escrowed)).toBe(false);
      expect(await opens(container, passphrase), `passphrase after rotation ${round}`).toBe(true);
      expect(await keySlots(container)).toHaveLength(2);
      escrowed = active[0].key;
    }
    const held = await service.heldKeys(deviceId);
    expect(held.map((k) => k.key)).not.toContain(passphrase);
    const stored = await service.api('POST', `/devices/${deviceId}/keys`, { key: passphrase, confirmKey: passphrase });
    expect(stored.status).toBe(400);
    expect((stored.body.error as { code: string }).code).toBe('luks_passphrase_refused');
  });

  it('checks before spending the token: not root, a missing volume, a plain file, a wrong passphrase, plain http — each a clear message, exit 2, and the same token enrolls afterwards', async () => {
    const passphrase = 'another passphrase';
    const container = await newContainer(work, 'checked', passphrase);
    const rootOnly = await newContainer(work, 'root-only', passphrase);
    chmodSync(rootOnly, 0o600);
    const plain = join(work, 'plain.img');
    writeFileSync(plain, Buffer.alloc(4 * 1024 * 1024));
    const token = await service.enrollToken('corporate', 'checked');
    const stateDir = join(work, 'state-checked');
    const deviceCount = async () => ((await service.api('GET', '/devices')).body.devices as unknown[]).length;
    const before = await deviceCount();
    const enroll = (volume: string, extra: { stdin?: string; asUid?: number; server?: string } = {}) =>
      runCli(['enroll', '--server', extra.server ?? service.server.url, '--token', token, '--volume', volume, '--state-dir', stateDir], { stdin: extra.stdin ?? `${passphrase}\n`, asUid: extra.asUid });

    const cases = [
      { name: 'not root', run: () => enroll(rootOnly, { asUid: NOBODY }), says: 'must run as root' },
      { name: 'no such volume', run: () => enroll('/dev/nonexistent'), says: 'volume /dev/nonexistent does not exist' },
      { name: 'a plain file', run: () => enroll(plain), says: 'none of the volumes is a LUKS volume' },
      { name: 'a wrong passphrase', run: () => enroll(container, { stdin: 'not the passphrase\n' }), says: `the passphrase given does not open ${container}` },
      { name: 'no passphrase at all', run: () => enroll(container, { stdin: '' }), says: 'no passphrase for' },
      { name: 'plain http to another host', run: () => enroll(container, { server: 'http://keyward.example.com' }), says: 'refusing plain http://' },
    ];
    for (const c of cases) {
      const result = await c.run();
      expect(result.code, `${c.name}: ${result.stderr}`).toBe(2);
      expect(result.stderr, c.name).toContain(c.says);
      expect(result.stderr, c.name).toContain('the enrollment token was not used');
      expect(result.stdout, c.name).not.toContain('enrolled:');
    }
    expect(await keySlots(container)).toEqual(['0']);
    expect(await deviceCount()).toBe(before);

    const ok = await enroll(container);
    expect(ok.code, ok.stderr).toBe(0);
    expect(enrolledDeviceId(ok)).not.toBe('');
    expect(await deviceCount()).toBe(before + 1);
    expect(JSON.parse(readFileSync(join(stateDir, 'agent.json'), 'utf8'))).toMatchObject({ driver: 'luks', volumes: [container] });
  });
});
