/**
 * The data directory and what is in it are private to the service's account: the directory
 * 0700, the SQLite files, key files and checkpoint file 0600 — on creation, and fixed on start
 * when an earlier install left them readable. `keyward serve` warns (one line) when a key file
 * sits beside the SQLite database; `--kek-file` / KEYWARD_AUDIT_KEY_FILE keep them apart. The
 * `keyward` command answers --help and bad input with plain lines, never a stack trace, and
 * `verify-audit` refuses what it cannot check without creating anything.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/open.ts';
import { startKeywardServer } from '../../server/main.ts';
import { keyward, noStackTrace } from './cli-run.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

const warnings = (text: string) => text.split('\n').filter((l) => l.startsWith('keyward: warning:'));

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'keyward-files-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('data directory and file modes', () => {
  it('a first start makes the directory 0700 and the database, key and checkpoint files 0600; a later start fixes loosened modes', async () => {
    const dataDir = join(root, 'modes');
    const files = ['keyward.db', 'keyward.db-wal', 'keyward.db-shm', 'kek.key', 'audit.key', 'audit-checkpoints.jsonl'].map((f) => join(dataDir, f));
    const first = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true });
    try {
      const admin = await first.db.selectFrom('users').select('id').where('role', '=', 'admin').executeTakeFirstOrThrow();
      const token = await createEnrollmentToken(first.deps, { ownerId: admin.id, ownership: 'corporate', label: 'audited' });
      await enrollDevice(first.deps, { token, name: 'Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: true, protectorIds: [] }] }, null);
      await first.auditCheckpoints.checkpoint();
      expect(mode(dataDir)).toBe(0o700);
      expect(files.map((f) => [f, mode(f)])).toEqual(files.map((f) => [f, 0o600]));
    } finally {
      await first.stop();
    }

    chmodSync(dataDir, 0o755);
    for (const f of files.filter((f) => existsSync(f))) chmodSync(f, 0o644);
    const again = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true });
    try {
      expect(mode(dataDir)).toBe(0o700);
      expect(files.map((f) => [f, mode(f)])).toEqual(files.map((f) => [f, 0o600]));
    } finally {
      await again.stop();
    }
  });
});

describe('keyward serve', () => {
  it('warns once when the key files sit beside the SQLite database', async () => {
    const run = await keyward(['serve', '--port', '0', '--data', join(root, 'beside')], { untilServing: true });
    expect(run.code).toBe(0);
    expect(warnings(run.stderr)).toHaveLength(1);
    expect(warnings(run.stderr)[0]).toContain('the KEK file (kek.key) and the audit key file (audit.key) are in the database\'s directory');
  });

  it('does not warn when --kek-file and KEYWARD_AUDIT_KEY_FILE put the keys elsewhere, and creates them there 0600', async () => {
    const dataDir = join(root, 'apart');
    const keys = join(root, 'keys');
    const run = await keyward(['serve', '--port', '0', '--data', dataDir, '--kek-file', join(keys, 'kek.key')], { env: { KEYWARD_AUDIT_KEY_FILE: join(keys, 'audit.key') }, untilServing: true });
    expect(run.code).toBe(0);
    expect(warnings(run.stderr)).toEqual([]);
    expect([mode(join(keys, 'kek.key')), mode(join(keys, 'audit.key')), mode(keys)]).toEqual([0o600, 0o600, 0o700]);
    expect(readdirSync(dataDir).filter((f) => f.endsWith('.key'))).toEqual([]);
  });

  it('does not warn in the demo', async () => {
    const run = await keyward(['serve', '--port', '0', '--data', join(root, 'demo'), '--demo'], { untilServing: true });
    expect(run.code).toBe(0);
    expect(warnings(run.stderr)).toEqual([]);
  });
});

describe('keyward verify-audit', () => {
  it.each([[['--help']], [['help']], [['verify-audit', '--help']], [['help', 'verify-audit']]])('keyward %j prints usage and exits 0', async (args) => {
    const run = await keyward(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('verify-audit');
    expect(run.stdout).toContain('--audit-key-file FILE');
    expect(run.stdout).toContain('--checkpoints FILE');
    noStackTrace(run);
  });

  it('refuses a mistyped data directory, and a directory without a database, creating nothing', async () => {
    const missing = join(root, 'no-such-dir');
    const run = await keyward(['verify-audit', '--data', missing]);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `keyward verify-audit: no data directory at ${missing}\n` });
    expect(existsSync(missing)).toBe(false);

    const empty = join(root, 'empty');
    mkdirSync(empty);
    const second = await keyward(['verify-audit', '--data', empty]);
    expect(second).toEqual({ code: 2, stdout: '', stderr: `keyward verify-audit: no Keyward database at ${join(empty, 'keyward.db')}\n` });
    expect(readdirSync(empty)).toEqual([]);
  });

  it('names an unreachable PostgreSQL in one line, without its password', async () => {
    const run = await keyward(['verify-audit', '--data', join(root, 'modes'), '--database', 'postgres://keyward:s3cret-pw@127.0.0.1:1/keyward']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^keyward verify-audit: cannot reach PostgreSQL at postgres:\/\/keyward@127\.0\.0\.1:1\/keyward: .*ECONNREFUSED.*\n$/);
    expect(run.stderr).not.toContain('s3cret-pw');
  });

  it('refuses unknown flags and flags of other commands in one line', async () => {
    const unknown = await keyward(['verify-audit', '--dta', 'x']);
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: 'keyward: unknown flag --dta (keyward --help lists the flags)\n' });
    const foreign = await keyward(['verify-audit', '--port', '1']);
    expect(foreign).toEqual({ code: 2, stdout: '', stderr: 'keyward: verify-audit does not take --port (keyward verify-audit --help)\n' });
  });

  it('exits 0 on an intact log and 1 naming the first bad event on an edited one', async () => {
    const dataDir = join(root, 'modes');
    const intact = await keyward(['verify-audit', '--data', dataDir]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^audit log intact: \d+ events; checked against \d+ signed checkpoints/);

    const opened = await openDatabase({ dataDir });
    await opened.db.updateTable('audit_events').set({ ip: '203.0.113.9' }).where('seq', '=', 1).execute();
    await opened.close();
    const broken = await keyward(['verify-audit', '--data', dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^audit log BROKEN at event 1: event 1 does not match its MAC/);
    noStackTrace(broken);
  });
});
