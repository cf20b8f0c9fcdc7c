/**
 * What a person running `keyward-agent` sees: help on every command, clear words for a wrong
 * enrollment token, a refusal of plain http to another host, a systemd unit they can install,
 * a credential the service refused said once (exit 4, the loop stops) and a rotated one picked
 * up by itself, a state dir an older agent wrote, and the agent runnable with `npx
 * keyward-agent` and as one built file. Help, the systemd unit and the older state dir are
 * checked with the production bin (agent/cli.ts), the rest with the tests' entry (cli-run.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkServerUrl } from '../../agent/server-url.ts';
import { createUser } from '../../server/seed.ts';
import { retireDevice } from '../../server/services/device-lifecycle.ts';
import { enrolledDeviceId, PRODUCTION_BIN, runCli } from './cli-run.ts';
import { startLiveService, type LiveService } from './live-service.ts';

// Each test runs the CLI several times as real processes (seconds each on a busy machine).
vi.setConfig({ testTimeout: 240_000 });

const exec = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');
const COMMANDS = ['enroll', 'run', 'status', 'repair', 'install-service'];
let service: LiveService;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keyward-cli-'));
  // Every check-in is due for a new credential.
  service = await startLiveService({ agentCredentialRotateDays: 0 });
});
afterAll(async () => {
  await service.stop();
  rmSync(work, { recursive: true, force: true });
});

async function enrollSimulated(name: string): Promise<{ deviceId: string; stateDir: string }> {
  const stateDir = join(work, name);
  const result = await runCli(['enroll', '--server', service.server.url, '--token', await service.enrollToken('corporate', name), '--driver', 'simulated', '--kind', 'luks', '--volume', 'disk0', '--name', name, '--state-dir', stateDir]);
  expect(result.code, result.stderr).toBe(0);
  return { deviceId: enrolledDeviceId(result), stateDir };
}

describe('keyward-agent, as a person meets it', () => {
  it('--help works on every command (exit 0), and a wrong option or no command prints the usage with exit 2', async () => {
    const top = await runCli(['--help'], { bin: 'production' });
    expect(top.code).toBe(0);
    for (const command of COMMANDS) expect(top.stdout).toContain(`  ${command}`);
    expect(top.stdout).toContain('exit codes:');
    expect(top.stdout).not.toContain('KEYWARD_AGENT_');
    for (const command of COMMANDS) {
      for (const args of [[command, '--help'], ['help', command], ...(command === 'run' ? [[command, '-h']] : [])]) {
        const result = await runCli(args, { bin: 'production' });
        expect(result.code, args.join(' ')).toBe(0);
        expect(result.stdout, args.join(' ')).toContain(`keyward-agent ${command}`);
        expect(result.stdout, args.join(' ')).not.toContain('KEYWARD_AGENT_');
        expect(result.stderr).not.toContain('Unknown option');
      }
    }
    const wrong = await runCli(['run', '--no-such-option'], { bin: 'production' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('usage: keyward-agent');
    expect((await runCli([], { bin: 'production' })).code).toBe(2);
  });

  it('a wrong or used enrollment token is called that (not a sign-in code), with exit 2', async () => {
    const used = await service.enrollToken('personal', 'used once');
    expect((await runCli(['enroll', '--server', service.server.url, '--token', used, '--driver', 'simulated', '--state-dir', join(work, 'used-token')])).code).toBe(0);
    for (const token of ['kwe_this-token-was-never-made', used]) {
      const result = await runCli(['enroll', '--server', service.server.url, '--token', token, '--driver', 'simulated', '--state-dir', join(work, 'wrong-token')]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('The enrollment token is not valid: it is mistyped, has expired or was already used. Ask IT for a new one.');
      expect(result.stderr).not.toContain('sign-in');
    }
  });

  it('plain http is refused except to this machine, unless --insecure-http says so', () => {
    expect(checkServerUrl('https://keyward.example.com', false)).toBe('https://keyward.example.com/');
    expect(checkServerUrl('http://127.0.0.1:8787', false)).toBe('http://127.0.0.1:8787/');
    expect(checkServerUrl('http://localhost:8787', false)).toBe('http://localhost:8787/');
    expect(() => checkServerUrl('http://keyward.example.com', false)).toThrow(/refusing plain http:\/\/ to keyward.example.com.*--insecure-http/);
    expect(checkServerUrl('http://keyward.example.com', true)).toBe('http://keyward.example.com/');
    expect(() => checkServerUrl('ftp://x', true)).toThrow(/https/);
    expect(() => checkServerUrl('not a url', false)).toThrow(/is not a URL/);
  });

  it('install-service writes a systemd unit that runs this agent for this state dir and does not restart on a refused credential', async () => {
    const unitDir = join(work, 'units');
    const notEnrolled = await runCli(['install-service', '--unit-dir', unitDir, '--state-dir', join(work, 'nothing-here')], { bin: 'production' });
    expect(notEnrolled.code).toBe(2);
    expect(notEnrolled.stderr).toContain('not enrolled');
    const { stateDir } = await enrollSimulated('service-unit');
    const result = await runCli(['install-service', '--unit-dir', unitDir, '--state-dir', stateDir], { bin: 'production' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('systemctl daemon-reload && systemctl enable --now keyward-agent');
    const unit = readFileSync(join(unitDir, 'keyward-agent.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${join(REPO, 'agent/cli.ts')} run --state-dir ${stateDir}\n`);
    expect(unit).toContain('After=network-online.target');
    expect(unit).toContain('Restart=on-failure');
    expect(unit).toContain('RestartPreventExitStatus=4 2');
    expect(unit).toContain(`ReadWritePaths=${stateDir}`);
    expect(unit).toContain('WantedBy=multi-user.target');
  });

  it('the credential rotates by itself at check-in; once the service refuses it, `run` says so once and stops with exit 4', async () => {
    const { deviceId, stateDir } = await enrollSimulated('rotating');
    const first = readFileSync(join(stateDir, 'credential'), 'utf8').trim();
    expect((await runCli(['run', '--once', '--state-dir', stateDir])).code).toBe(0);
    const second = readFileSync(join(stateDir, 'credential'), 'utf8').trim();
    expect(second).not.toBe(first);
    expect((await runCli(['run', '--once', '--state-dir', stateDir])).code).toBe(0);
    const old = await fetch(`${service.server.url}/api/v1/agent/checkin`, { method: 'POST', headers: { authorization: `Bearer ${first}`, 'content-type': 'application/json' }, body: '{"volumes":[]}' });
    expect(old.status).toBe(401);

    const adminId = await createUser(service.server.deps, { orgId: (await service.server.db.selectFrom('org').select('id').executeTakeFirstOrThrow()).id, email: 'it@agent.test', name: 'IT', password: 'it-pass-1234', role: 'admin' });
    await retireDevice(service.server.deps, { id: adminId, role: 'admin' }, deviceId, { ip: null });
    const stopped = await runCli(['run', '--state-dir', stateDir]);
    expect(stopped.code).toBe(4);
    const said = 'the service refused this device\'s credential (device_retired): This device was retired by IT.';
    expect(stopped.stderr.split(said).length - 1, stopped.stderr).toBe(1);
  });

  it('one agent at a time per state dir: a second run is refused while the first holds it, a lock left by a dead process is taken over', async () => {
    const { stateDir } = await enrollSimulated('locked');
    const lock = join(stateDir, 'agent.lock');
    const first = spawn(process.execPath, [PRODUCTION_BIN, 'run', '--state-dir', stateDir], { stdio: 'ignore' });
    try {
      await expect.poll(() => existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(first.pid), { timeout: 20_000 }).toBe(true);
      const second = await runCli(['run', '--once', '--state-dir', stateDir]);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`another keyward-agent (pid ${first.pid}) is working with ${stateDir}`);
    } finally {
      const exited = new Promise((resolve) => first.once('exit', resolve));
      first.kill('SIGTERM');
      await exited;
    }
    expect(existsSync(lock)).toBe(false);
    writeFileSync(lock, '4194303\n');
    expect((await runCli(['run', '--once', '--state-dir', stateDir])).code).toBe(0);
    expect(existsSync(lock)).toBe(false);
  });

  it('loads a state dir an older agent wrote with its test-only KDF flag, and ignores the flag', async () => {
    const { stateDir } = await enrollSimulated('older-state');
    const configPath = join(stateDir, 'agent.json');
    const written = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(configPath, JSON.stringify({ ...written, fastKdfForTests: true }));
    const status = await runCli(['status', '--state-dir', stateDir], { bin: 'production' });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('rotations: none unfinished');
    const once = await runCli(['run', '--once', '--state-dir', stateDir], { bin: 'production' });
    expect(once.code, once.stderr).toBe(0);
  });

  it('runs as `npx keyward-agent` after npm ci, and as one built file on a device without the repository', async () => {
    const npx = await exec('npx', ['--no-install', 'keyward-agent', '--help'], { cwd: REPO });
    expect(npx.stdout).toContain('usage: keyward-agent <command>');

    await exec('npm', ['run', 'build:agent'], { cwd: REPO });
    const elsewhere = mkdtempSync(join(tmpdir(), 'keyward-bundle-'));
    try {
      const bundle = join(elsewhere, 'keyward-agent.mjs');
      copyFileSync(join(REPO, 'dist/keyward-agent.mjs'), bundle);
      const stateDir = join(elsewhere, 'state');
      const enrolled = await exec(process.execPath, [bundle, 'enroll', '--server', service.server.url, '--token', await service.enrollToken('corporate', 'bundle'), '--driver', 'simulated', '--state-dir', stateDir], { cwd: elsewhere });
      expect(enrolled.stdout).toContain('SIMULATED');
      await exec(process.execPath, [bundle, 'run', '--once', '--state-dir', stateDir], { cwd: elsewhere });
      const status = await exec(process.execPath, [bundle, 'status', '--state-dir', stateDir], { cwd: elsewhere });
      expect(status.stdout).toContain('rotations: none unfinished');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
