/**
 * The agent against the real escrow service over HTTP (127.0.0.1, port 0, SQLite in a temp
 * dir): enroll with a one-time token through the CLI, a user stores the key of the
 * (SIMULATED) disk through the API, one `keyward-agent run --once` verifies and rotates it.
 * Also the simulated fleet: escrow at enrollment, and a restart that re-uses the credential.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { generateKek } from '../../server/crypto/kek.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken } from '../../server/services/agent-enroll.ts';
import { issueAuthorizationCode, EXTENSION_CLIENT_ID } from '../../server/auth/oauth.ts';
import { readSimulatedVolume } from '../../agent/drivers/simulated.ts';
import { startSimulatedFleet } from '../../agent/simulated-fleet.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../agent/cli.ts');
const REDIRECT = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/callback.html';

let server: KeywardServer;
let dataDir: string;
let work: string;
let user: { id: string; token: string };

async function accessToken(userId: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const code = await issueAuthorizationCode(server.deps, userId, { clientId: EXTENSION_CLIENT_ID, redirectUri: REDIRECT, codeChallenge: challenge, state: 's' });
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: EXTENSION_CLIENT_ID }).toString(),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${user.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function keyStates(deviceId: string): Promise<{ state: string; source: string }[]> {
  return server.db.selectFrom('key_versions').select(['state', 'source']).where('device_id', '=', deviceId).orderBy('version').execute();
}

async function token(ownership: 'corporate' | 'personal', label: string): Promise<string> {
  return createEnrollmentToken(server.deps, { ownerId: user.id, ownership, label });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'keyward-agent-int-'));
  work = mkdtempSync(join(tmpdir(), 'keyward-agent-state-'));
  server = await startKeywardServer({ port: 0, dataDir, quiet: true, kek: generateKek() });
  const org = await server.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const id = await createUser(server.deps, { orgId: org.id, email: 'owner@agent.test', name: 'Owner', password: 'owner-pass-123', role: 'user' });
  user = { id, token: await accessToken(id) };
});

afterAll(async () => {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('keyward-agent against the real escrow service', () => {
  it('enroll → the user stores the disk key → one check-in verifies, rotates, escrows; the disk holds exactly the active key', async () => {
    const stateDir = join(work, 'cli');
    const enroll = await run(process.execPath, [CLI, 'enroll', '--server', server.url, '--token', await token('personal', 'cli mac'), '--driver', 'simulated', '--kind', 'filevault', '--volume', 'disk1s1', '--name', 'Test Mac', '--state-dir', stateDir]);
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
    expect(checkin.stderr + checkin.stdout).not.toContain(diskKey);

    const slots = readSimulatedVolume(volumes, 'disk1s1').slots;
    expect(slots).toHaveLength(1);
    expect(slots[0].key).not.toBe(diskKey);
    expect(checkin.stderr + checkin.stdout).not.toContain(slots[0].key);

    const device = await api('GET', `/devices/${deviceId}`);
    expect(device.body).toMatchObject({ keyStatus: 'escrowed', notice: { message: 'M4' } });
    expect(await keyStates(deviceId)).toEqual([{ state: 'retired', source: 'user' }, { state: 'active', source: 'agent' }]);
    const revealed = await api('POST', `/devices/${deviceId}/reveal`, {});
    expect(revealed.status).toBe(200);
    expect(String(revealed.body.key).replace(/-/g, '')).toBe(slots[0].key);

    const status = await run(process.execPath, [CLI, 'status', '--state-dir', stateDir]);
    expect(status.stdout).toContain(deviceId);
    expect(status.stdout).toContain('SIMULATED');
    expect(status.stdout).toContain('rotations: none unfinished');
  });

  it('a wrong key typed by the user fails the operation with wrong_key and leaves the disk alone', async () => {
    const stateDir = join(work, 'wrong');
    const enroll = await run(process.execPath, [CLI, 'enroll', '--server', server.url, '--token', await token('personal', 'wrong mac'), '--driver', 'simulated', '--kind', 'filevault', '--volume', 'disk1s1', '--state-dir', stateDir]);
    const deviceId = /device (\S+)/.exec(enroll.stdout)?.[1] ?? '';
    const diskKey = readSimulatedVolume(join(stateDir, 'simulated-volumes'), 'disk1s1').slots[0].key;
    const wrong = generateRecoveryKey('filevault');
    expect((await api('POST', `/devices/${deviceId}/keys`, { key: wrong, confirmKey: wrong })).status).toBe(202);
    await run(process.execPath, [CLI, 'run', '--once', '--state-dir', stateDir]);
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
    const fleet = await startSimulatedFleet({ serverUrl: server.url, stateDir, devices: specs, checkinIntervalMs: 60_000 });
    const [mac, pc] = fleet.devices;
    expect(mac.volumes[0].currentKey()).toBe(macKey);
    const macView = await api('GET', `/devices/${mac.deviceId}`);
    expect(macView.body).toMatchObject({ keyStatus: 'escrowed' });
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
    await fleet.stop();

    // restart: the one-time tokens are spent, so this only works if the credential is re-used
    const again = await startSimulatedFleet({ serverUrl: server.url, stateDir, devices: specs, checkinIntervalMs: 60_000 });
    expect(again.devices.map((d) => d.deviceId)).toEqual([mac.deviceId, pc.deviceId]);
    expect(again.devices[0].volumes[0].currentKey()).toBe(rotated);
    await again.stop();
    const devices = (await api('GET', '/devices')).body as { devices: unknown[] };
    expect(devices.devices).toHaveLength(4);
  });
});
