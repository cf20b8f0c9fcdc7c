/**
 * Backup and restore: `keyward backup` copies the database while the service runs (SQLite
 * online copy; PostgreSQL pg_dump) and, into a separate place, the KEK ring, the audit key and
 * the signed checkpoints; the restored copy reveals the same keys and passes verify-audit
 * against the backed-up checkpoints, although the live log moved on after the backup.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { createApp } from '../../server/app.ts';
import { backup, PG_DUMP_FILE } from '../../server/backup.ts';
import { runVerifyAudit } from '../../server/verify-audit.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { uploadProtectors } from '../../server/services/agent-report.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { FV_KEY_1, FV_KEY_2, PG_URL, tokensFor } from './harness.ts';
import { keyward } from './cli-run.ts';

const root = mkdtempSync(join(tmpdir(), 'keyward-backup-'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(root, { recursive: true, force: true });
});

async function seed(server: KeywardServer): Promise<{ token: string; deviceId: string; volumeRef: string; upload(key: string): Promise<void> }> {
  const deps = server.deps;
  const org = await deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const owner = await createUser(deps, { orgId: org.id, email: 'owner@backup.example', name: 'Owner', password: 'owner-pass-123', role: 'user' });
  const enroll = await createEnrollmentToken(deps, { ownerId: owner, ownership: 'corporate', label: 'Mac' });
  const { deviceId } = await enrollDevice(deps, { token: enroll, name: 'Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: true, protectorIds: [] }] }, null);
  const upload = async (key: string) => {
    const device = await deps.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirstOrThrow();
    await uploadProtectors(deps, device, { volumeRef: 'd', protectors: [{ protectorId: '', key }] }, 'en');
  };
  await upload(FV_KEY_1);
  const token = (await tokensFor(createApp(deps), deps, owner)).access_token;
  return { token, deviceId, volumeRef: 'd', upload };
}

async function reveal(url: string, deviceId: string, token: string): Promise<{ status: number; key: string | undefined }> {
  const res = await fetch(`${url}/api/v1/devices/${deviceId}/reveal`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
  return { status: res.status, key: ((await res.json()) as { key?: string }).key };
}

async function untilCheckpointed(path: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (readFileSync(path, 'utf8').trim() === '') {
    if (Date.now() > deadline) throw new Error('no checkpoint written');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('backup and restore', () => {
  it('SQLite: backup while serving, restore into a new directory, the same key is revealed and verify-audit passes', async () => {
    const live = join(root, 'sqlite-live');
    const server = await startKeywardServer({ port: 0, dataDir: live, quiet: true, auditCheckpointIntervalMs: 50 });
    const s = await seed(server);
    await untilCheckpointed(join(live, 'audit-checkpoints.jsonl'));
    const out = join(root, 'sqlite-backup', 'db');
    const keysOut = join(root, 'sqlite-backup-keys');
    const taken = await keyward(['backup', '--data', live, '--out', out, '--keys-out', keysOut]);
    expect([taken.code, taken.stderr]).toEqual([0, '']);
    expect(readdirSync(out).sort()).toEqual(['BACKUP.txt', 'keyward.db']);
    expect(readdirSync(keysOut).sort()).toEqual(['BACKUP.txt', 'audit-checkpoints.jsonl', 'audit.key', 'kek.key']);
    expect(statSync(join(keysOut, 'kek.key')).mode & 0o777).toBe(0o600);
    // The live service moves on after the backup.
    await s.upload(FV_KEY_2);
    await server.stop();

    const restoredDir = join(root, 'sqlite-restored');
    const restore = await keyward(['restore', '--from', out, '--keys-from', keysOut, '--data', restoredDir]);
    expect([restore.code, restore.stderr]).toEqual([0, '']);
    const restored = await startKeywardServer({ port: 0, dataDir: restoredDir, quiet: true });
    try {
      expect(await reveal(restored.url, s.deviceId, s.token)).toEqual({ status: 200, key: FV_KEY_1 });
    } finally {
      await restored.stop();
    }
    const verify = await keyward(['verify-audit', '--data', restoredDir, '--checkpoints', join(keysOut, 'audit-checkpoints.jsonl')]);
    expect(verify.stdout).toMatch(/^audit log intact: \d+ events; checked against [1-9]\d* signed checkpoints/m);
    expect(verify.code).toBe(0);
  }, 90_000);

  it('backup refuses to put the keys inside the database backup', async () => {
    const run = await keyward(['backup', '--data', join(root, 'sqlite-live'), '--out', join(root, 'same'), '--keys-out', join(root, 'same', 'keys')]);
    expect([run.code, run.stderr.trim()]).toEqual([2, 'keyward: --keys-out must be apart from --out: whoever holds the database copy and the KEK together can read every escrowed key']);
  });

  it('PostgreSQL: pg_dump while serving, pg_restore into a new database, the same key is revealed and verify-audit passes', async () => {
    const schema = `kw_backup_${process.pid}_${randomBytes(4).toString('hex')}`;
    cleanups.push(() => dropPostgresSchema(PG_URL, schema));
    const live = join(root, 'pg-live');
    const server = await startKeywardServer({ port: 0, dataDir: live, databaseUrl: PG_URL, pgSchema: schema, quiet: true, auditCheckpointIntervalMs: 50 });
    const s = await seed(server);
    await untilCheckpointed(join(live, 'audit-checkpoints.jsonl'));
    const out = join(root, 'pg-backup');
    const keysOut = join(root, 'pg-backup-keys');
    const taken = await backup({
      dataDir: live, databaseUrl: PG_URL, pgSchema: schema, out, keysOut,
      kekFile: join(live, 'kek.key'), auditKeyFile: join(live, 'audit.key'), checkpointFiles: [join(live, 'audit-checkpoints.jsonl')],
    });
    expect(taken.database).toBe(join(out, PG_DUMP_FILE));
    await s.upload(FV_KEY_2);
    await server.stop();

    // Restore into a new database, as the README says: createdb, then pg_restore.
    const database = `kw_restore_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${database}`);
    cleanups.push(async () => {
      // A closed pool may still be saying goodbye on its sockets: forcing the drop then would
      // kill a connection mid-close (an uncaught FATAL in its client). Wait for them to go.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const left = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [database]);
        if (left.rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    });
    const restoredUrl = new URL(PG_URL);
    restoredUrl.pathname = `/${database}`;
    execFileSync('pg_restore', ['--no-owner', `--dbname=${restoredUrl}`, taken.database], { stdio: 'pipe' });
    const restoredDir = join(root, 'pg-restored');
    mkdirSync(restoredDir, { mode: 0o700 });
    for (const f of ['kek.key', 'audit.key']) copyFileSync(join(keysOut, f), join(restoredDir, f));
    const restored = await startKeywardServer({ port: 0, dataDir: restoredDir, databaseUrl: restoredUrl.toString(), pgSchema: schema, quiet: true });
    try {
      expect(await reveal(restored.url, s.deviceId, s.token)).toEqual({ status: 200, key: FV_KEY_1 });
    } finally {
      await restored.stop();
    }
    const verify = await runVerifyAudit({ dataDir: restoredDir, databaseUrl: restoredUrl.toString(), pgSchema: schema, checkpointFiles: [join(keysOut, 'audit-checkpoints.jsonl')] });
    expect(verify.lines[0]).toMatch(/^audit log intact: \d+ events; checked against [1-9]\d* signed checkpoints/);
    expect(verify.exitCode).toBe(0);
  }, 90_000);
});
