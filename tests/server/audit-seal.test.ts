/**
 * A log written before events were keyed (plain SHA-256 chain) is sealed under the audit key
 * once, at the first start that has the key: content unchanged, an `audit.chain_sealed` event
 * saying how many events came before, and `verify-audit` intact afterwards. A chain recomputed
 * without the key after that is reported and never sealed again; a broken unkeyed log is
 * reported and left as it is.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropPostgresSchema, openDatabase } from '../../server/db/open.ts';
import type { AuditEventTable } from '../../server/db/schema.ts';
import { startKeywardServer } from '../../server/main.ts';
import { runVerifyAudit } from '../../server/verify-audit.ts';
import { PG_URL } from './harness.ts';

type Row = AuditEventTable;

const unkeyed = (e: Omit<Row, 'hash'>) =>
  createHash('sha256').update(JSON.stringify([e.seq, e.id, e.at, e.actor_id, e.actor_kind, e.action, e.device_id, e.volume_id, e.detail, e.ip, e.prev_hash])).digest('hex');

/** Hashes the events the way the log did before it was keyed. */
function unkeyedChain(events: Omit<Row, 'hash' | 'prev_hash'>[]): Row[] {
  let prev = '0'.repeat(64);
  return events.map((e) => {
    const hash = unkeyed({ ...e, prev_hash: prev });
    const row = { ...e, prev_hash: prev, hash };
    prev = hash;
    return row;
  });
}

const legacyEvents = (): Omit<Row, 'hash' | 'prev_hash'>[] =>
  ['user.created', 'user.created', 'enrollment_token.created', 'device.enrolled', 'key.uploaded'].map((action, i) => ({
    seq: i + 1, id: randomUUID(), at: `2026-10-0${i + 1}T09:00:00.000Z`, actor_id: null, actor_kind: 'system', action, device_id: null, volume_id: null, detail: JSON.stringify({ n: i }), ip: null,
  }));

describe.each(['sqlite', 'postgres'] as const)('sealing an unkeyed audit log (%s)', (kind) => {
  const dirs: string[] = [];
  const schemas: string[] = [];

  /** A data directory (and PostgreSQL schema) holding `rows` as the log, with no audit key yet. */
  async function legacyStore(rows: Row[]) {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyward-seal-'));
    dirs.push(dataDir);
    const pgSchema = `kw_seal_${process.pid}_${randomBytes(4).toString('hex')}`;
    if (kind === 'postgres') schemas.push(pgSchema);
    const where = kind === 'postgres' ? { dataDir, databaseUrl: PG_URL, pgSchema } : { dataDir };
    const opened = await openDatabase(where);
    await opened.db.insertInto('audit_events').values(rows).execute();
    const last = rows[rows.length - 1];
    await opened.db.updateTable('audit_head').set({ seq: last.seq, hash: last.hash }).where('id', '=', 1).execute();
    await opened.close();
    const alarms: string[] = [];
    return {
      where,
      alarms,
      start: () => startKeywardServer({ ...where, port: 0, quiet: true, alert: (line) => alarms.push(line) }),
      verify: () => runVerifyAudit(where),
    };
  }

  afterAll(async () => {
    for (const schema of schemas) await dropPostgresSchema(PG_URL, schema);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('an intact unkeyed log', () => {
    const original = unkeyedChain(legacyEvents());
    let store: Awaited<ReturnType<typeof legacyStore>>;
    beforeAll(async () => {
      store = await legacyStore(original);
    });

    it('does not verify before it is sealed', async () => {
      const report = await store.verify();
      expect(report.exitCode).toBe(2);
      expect(report.lines[0]).toMatch(/^keyward verify-audit: no audit key at .*audit\.key/);
    });

    it('is sealed once at the first start: same events, one audit.chain_sealed event, intact', async () => {
      const server = await store.start();
      const events = await server.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
      await server.stop();
      expect(store.alarms).toEqual([]);
      expect(events.slice(0, 5).map(({ prev_hash: _p, hash: _h, ...content }) => content)).toEqual(original.map(({ prev_hash: _p, hash: _h, ...content }) => content));
      expect(events.slice(0, 5).map((e) => e.hash)).not.toContain(original[0].hash);
      expect(events[5]).toMatchObject({ seq: 6, action: 'audit.chain_sealed', actor_kind: 'system' });
      expect(JSON.parse(events[5].detail)).toMatchObject({ legacyEvents: 5, legacyHeadHash: original[4].hash });

      const report = await store.verify();
      expect(report.exitCode).toBe(0);
      expect(report.lines[0]).toMatch(/^audit log intact: 6 events; checked against 1 signed checkpoints \(newest: event 6\)/);
      expect(report.lines[1]).toMatch(/^note: events 1–5 were written before keyed hashes and sealed under the audit key at .* \(event 6\)$/);
    });

    it('is not sealed again on the next start', async () => {
      const server = await store.start();
      const sealed = await server.db.selectFrom('audit_events').select('seq').where('action', '=', 'audit.chain_sealed').execute();
      await server.stop();
      expect(sealed).toEqual([{ seq: 6 }]);
      expect(store.alarms).toEqual([]);
      expect((await store.verify()).exitCode).toBe(0);
    });

    it('recomputed later without the key, it is reported at start and not sealed again', async () => {
      const opened = await openDatabase(store.where);
      const rows = await opened.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
      const forged = unkeyedChain(rows.map(({ prev_hash: _p, hash: _h, ...content }) => content));
      for (const r of forged) await opened.db.updateTable('audit_events').set({ prev_hash: r.prev_hash, hash: r.hash }).where('seq', '=', r.seq).execute();
      await opened.db.updateTable('audit_head').set({ hash: forged[forged.length - 1].hash }).where('id', '=', 1).execute();
      await opened.close();

      const server = await store.start();
      const sealed = await server.db.selectFrom('audit_events').select('seq').where('action', '=', 'audit.chain_sealed').execute();
      await server.stop();
      expect(sealed).toEqual([{ seq: 6 }]);
      expect(store.alarms).toHaveLength(2);
      expect(store.alarms[0]).toMatch(/^keyward: AUDIT ALARM: the audit log carries plain SHA-256 hashes although .*audit-checkpoints\.jsonl holds checkpoints of it keyed: the chain was recomputed without the audit key/);
      // The checkpoint taken at the previous stop no longer matches either.
      expect(store.alarms[1]).toMatch(/^keyward: AUDIT ALARM: audit event 6 has changed since the checkpoint written at .* recorded it; the log was rewritten$/);
      const report = await store.verify();
      expect(report.exitCode).toBe(1);
      expect(report.lines[0]).toMatch(/^audit log BROKEN at event 1: event 1 carries a plain SHA-256 hash/);
    });
  });

  it('a start with another audit key than the one that sealed the log raises an alarm', async () => {
    const store = await legacyStore(unkeyedChain(legacyEvents()));
    await (await store.start()).stop();
    expect(store.alarms).toEqual([]);
    const elsewhere = mkdtempSync(join(tmpdir(), 'keyward-seal-other-'));
    dirs.push(elsewhere);
    const server = await startKeywardServer({
      ...store.where, port: 0, quiet: true, alert: (line) => store.alarms.push(line),
      auditKeyFile: join(elsewhere, 'audit.key'), auditCheckpointFile: join(elsewhere, 'audit-checkpoints.jsonl'),
    });
    await server.stop();
    expect(store.alarms).toEqual([
      `keyward: AUDIT ALARM: the newest audit event (6) does not verify under this audit key (${server.deps.auditKey.id}): the log was altered, or this instance was given another audit key file than the one that sealed it; run keyward verify-audit`,
    ]);
  });

  it('a broken unkeyed log is reported at start and left unsealed', async () => {
    const rows = unkeyedChain(legacyEvents());
    rows[2] = { ...rows[2], detail: '{"n":99}' };
    const store = await legacyStore(rows);
    const server = await store.start();
    const events = await server.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    await server.stop();
    expect(store.alarms).toEqual(['keyward: AUDIT ALARM: the audit log from before keyed hashes is broken at event 3; it was not sealed under the audit key; run keyward verify-audit']);
    expect(events).toEqual(rows);
  });
});
