/**
 * An untouched busy log stays intact through restarts and with two service instances on one
 * PostgreSQL, each writing its own checkpoint file while events are appended through both:
 * no alarm is raised, and `verify-audit` given both files finds everything in order. A
 * checkpoint printed for syslog can be checked with the service's public key alone.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { appendAudit } from '../../server/audit.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { startKeywardServer, type KeywardServer, type KeywardServerOptions } from '../../server/main.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { runVerifyAudit } from '../../server/verify-audit.ts';
import { PG_URL } from './harness.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-audit-instances-'));
  dirs.push(dir);
  return dir;
};

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Events appended at once, each in its own transaction, as concurrent requests would. */
async function busy(server: KeywardServer, count: number, label: string): Promise<void> {
  const at = () => new Date().toISOString();
  await Promise.all(Array.from({ length: count }, (_, i) =>
    server.db.transaction().execute((trx) => appendAudit(trx, server.deps, at(), { actorId: null, actorKind: 'system', action: 'test.busy', detail: { label, i } })),
  ));
  const admin = await server.db.selectFrom('users').select('id').where('role', '=', 'admin').executeTakeFirstOrThrow();
  const token = await createEnrollmentToken(server.deps, { ownerId: admin.id, ownership: 'corporate', label });
  await enrollDevice(server.deps, { token, name: label, platform: 'linux', keyKind: 'luks', volumes: [{ ref: 'root', name: 'root', encrypted: true, protectorIds: [] }] }, null);
}

const checkpointLines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('a busy untouched audit log', () => {
  it('verifies intact after a restart (SQLite)', async () => {
    const dataDir = tempDir();
    const alarms: string[] = [];
    const options: KeywardServerOptions = { port: 0, dataDir, demo: true, quiet: true, auditCheckpointIntervalMs: 20, alert: (line) => alarms.push(line) };
    const first = await startKeywardServer(options);
    await busy(first, 150, 'first');
    await first.stop();
    const second = await startKeywardServer(options);
    await busy(second, 150, 'second');
    await second.stop();

    expect(alarms).toEqual([]);
    const file = join(dataDir, 'audit-checkpoints.jsonl');
    expect(checkpointLines(file).length).toBeGreaterThanOrEqual(2);
    const report = await runVerifyAudit({ dataDir });
    expect(report.exitCode).toBe(0);
    expect(report.lines[0]).toMatch(/^audit log intact: \d{3} events; checked against \d+ signed checkpoints/);
  });

  it('verifies intact with two instances on one PostgreSQL, each with its own checkpoint file', async () => {
    const pgSchema = `kw_instances_${process.pid}_${randomBytes(4).toString('hex')}`;
    const keys = tempDir();
    const alarms: string[] = [];
    const instance = (name: string): KeywardServerOptions => ({
      port: 0, dataDir: join(tempDir(), name), databaseUrl: PG_URL, pgSchema, demo: true, quiet: true, instance: name,
      kekFile: join(keys, 'kek.key'), auditKeyFile: join(keys, 'audit.key'), auditCheckpointIntervalMs: 20, alert: (line) => alarms.push(`${name}: ${line}`),
    });
    const a = instance('a');
    const b = instance('b');
    try {
      const serverA = await startKeywardServer(a);
      const serverB = await startKeywardServer(b);
      await Promise.all([busy(serverA, 120, 'a'), busy(serverB, 120, 'b')]);
      await serverA.stop();
      // One instance restarts while the other keeps appending.
      const againA = await startKeywardServer(a);
      await Promise.all([busy(againA, 60, 'a2'), busy(serverB, 60, 'b2')]);
      await Promise.all([againA.stop(), serverB.stop()]);

      expect(alarms).toEqual([]);
      const files = [join(a.dataDir ?? '', 'audit-checkpoints.jsonl'), join(b.dataDir ?? '', 'audit-checkpoints.jsonl')];
      for (const file of files) expect(checkpointLines(file).length).toBeGreaterThan(0);
      const report = await runVerifyAudit({ dataDir: keys, databaseUrl: PG_URL, pgSchema, auditKeyFile: join(keys, 'audit.key'), checkpointFiles: files });
      expect(report.exitCode).toBe(0);
      expect(report.lines[0]).toMatch(/^audit log intact: \d{3} events; checked against \d+ signed checkpoints \(newest: event \d+\) in .*a\/audit-checkpoints\.jsonl, .*b\/audit-checkpoints\.jsonl$/);
    } finally {
      await dropPostgresSchema(PG_URL, pgSchema);
    }
  });
});

describe('checkpoints on stdout', () => {
  it('prints each checkpoint as one line that the public key alone verifies', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      printed.push(String(line));
    });
    try {
      const dataDir = tempDir();
      const server = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true, auditCheckpointStdout: true, instance: 'syslog-test' });
      await busy(server, 3, 'stdout');
      const written = await server.auditCheckpoints.checkpoint();
      await server.stop();
      const lines = printed.filter((l) => l.startsWith('keyward-audit-checkpoint '));
      expect(lines).toHaveLength(1);
      const checkpoint = JSON.parse(lines[0].slice('keyward-audit-checkpoint '.length)) as { seq: number; hash: string; at: string; instance: string; key: string; sig: string };
      expect(checkpoint).toEqual({ ...written, instance: 'syslog-test' });
      expect(checkpointLines(join(dataDir, 'audit-checkpoints.jsonl'))).toEqual([lines[0].slice('keyward-audit-checkpoint '.length)]);

      // What an operator does elsewhere, with the pinned public key and nothing of Keyward's.
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: server.deps.auditKey.publicKey }, format: 'jwk' });
      const signed = (c: typeof checkpoint) => Buffer.from(JSON.stringify(['keyward-audit-checkpoint/v1', c.seq, c.hash, c.at, c.instance]));
      expect(verify(null, signed(checkpoint), publicKey, Buffer.from(checkpoint.sig, 'base64url'))).toBe(true);
      expect(verify(null, signed({ ...checkpoint, seq: checkpoint.seq - 1 }), publicKey, Buffer.from(checkpoint.sig, 'base64url'))).toBe(false);
    } finally {
      log.mockRestore();
    }
  });
});
