/**
 * Tampering with the audit log through the database, as an insider with database access but
 * not the key files would: every edit, deletion, reordering, hand-made event, truncation (with
 * the head reset to match) and recomputed chain makes `verify-audit` fail, naming the first bad
 * event and what is wrong; an edited checkpoint line fails its signature; the running service
 * reports a truncation or rewrite at its next checkpoint. An untouched busy log verifies.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../server/audit.ts';
import { startCheckpointWriter, type CheckpointWriter } from '../../server/audit-checkpoints.ts';
import type { AuditEventTable } from '../../server/db/schema.ts';
import { runVerifyAudit } from '../../server/verify-audit.ts';
import { call, createHarness, enrollMac, FV_KEY_1, PG_URL, type Harness } from './harness.ts';

type Row = AuditEventTable;

/** What an attacker can compute: the event's content as the chain hashes it. */
const content = (e: Omit<Row, 'hash'>) => JSON.stringify([e.seq, e.id, e.at, e.actor_id, e.actor_kind, e.action, e.device_id, e.volume_id, e.detail, e.ip, e.prev_hash]);
const sha256 = (e: Omit<Row, 'hash'>) => createHash('sha256').update(content(e)).digest('hex');
const attackerKey = randomBytes(32);
const attackerMac = (e: Omit<Row, 'hash'>) => createHmac('sha256', attackerKey).update(content(e)).digest('hex');

describe.each(['sqlite', 'postgres'] as const)('audit log tampering (%s)', (kind) => {
  let h: Harness;
  let writer: CheckpointWriter;
  const alarms: string[] = [];
  let original: Row[];
  let checkpoints: string;
  let newest: number;
  const checkpointFile = () => join(h.dataDir, 'audit-checkpoints.jsonl');

  const verify = () => runVerifyAudit({ dataDir: h.dataDir, ...(kind === 'postgres' ? { databaseUrl: PG_URL, pgSchema: h.pgSchema } : {}) });
  const rows = () => h.deps.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  const event = async (seq: number) => h.deps.db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
  const setHead = (seq: number, hash: string) => h.deps.db.updateTable('audit_head').set({ seq, hash }).where('id', '=', 1).execute();

  /** Rewrites every event's hash with `hashOf`, as someone rebuilding the chain would. */
  async function recompute(hashOf: (e: Omit<Row, 'hash'>) => string): Promise<void> {
    let prev = '0'.repeat(64);
    const events = await rows();
    await h.deps.db.transaction().execute(async (trx) => {
      for (const e of events) {
        const { hash: _old, ...rest } = e;
        const hash = hashOf({ ...rest, prev_hash: prev });
        await trx.updateTable('audit_events').set({ prev_hash: prev, hash }).where('seq', '=', e.seq).execute();
        prev = hash;
      }
      await trx.updateTable('audit_head').set({ seq: newest, hash: prev }).where('id', '=', 1).execute();
    });
  }

  const startWriter = () => startCheckpointWriter({ deps: h.deps, path: checkpointFile(), instance: 'tamper-test', intervalMs: 3_600_000, alert: (line) => alarms.push(line) });

  beforeAll(async () => {
    h = await createHarness(kind);
    // A busy log: real requests, then enough events that verification pages through them.
    const mac = await enrollMac(h, 'corporate');
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {})).status).toBe(200);
    await h.deps.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 1100; i++) await appendAudit(trx, h.deps, new Date().toISOString(), { actorId: null, actorKind: 'system', action: 'test.busy', detail: { i } });
    });
    writer = await startWriter();
    original = await rows();
    newest = original[original.length - 1].seq;
    checkpoints = readFileSync(checkpointFile(), 'utf8');
  });

  afterEach(async () => {
    await h.deps.db.deleteFrom('audit_events').execute();
    for (let i = 0; i < original.length; i += 200) await h.deps.db.insertInto('audit_events').values(original.slice(i, i + 200)).execute();
    await setHead(newest, original[original.length - 1].hash);
    // A fresh writer, resuming from the file as it was: what one test made it see stays there.
    await writer.stop();
    writeFileSync(checkpointFile(), checkpoints);
    writer = await startWriter();
    alarms.length = 0;
  });

  afterAll(async () => {
    await writer?.stop();
    await h?.close();
  });

  it('an untouched busy log verifies intact against its checkpoint', async () => {
    expect(newest).toBeGreaterThan(1100);
    const report = await verify();
    expect(report.exitCode).toBe(0);
    expect(report.lines[0]).toBe(`audit log intact: ${newest} events; checked against 1 signed checkpoints (newest: event ${newest}) in ${checkpointFile()}`);
    expect(await writer.checkpoint()).toBeNull();
    expect(alarms).toEqual([]);
  });

  it('an edited event is named, with a MAC mismatch', async () => {
    const reveal = original.find((e) => e.action === 'key.revealed');
    if (!reveal) throw new Error('no reveal event');
    await h.deps.db.updateTable('audit_events').set({ actor_id: h.people.other.id }).where('seq', '=', reveal.seq).execute();
    const report = await verify();
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toMatch(new RegExp(`^audit log BROKEN at event ${reveal.seq}: event ${reveal.seq} does not match its MAC`));
  });

  it('an event deleted in the middle is a gap', async () => {
    await h.deps.db.deleteFrom('audit_events').where('seq', '=', 500).execute();
    const report = await verify();
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toMatch(/^audit log BROKEN at event 500: event 500 is missing \(the next event is 501\)/);
  });

  it('two events swapped are out of order', async () => {
    await h.deps.db.updateTable('audit_events').set({ seq: -1 }).where('seq', '=', 700).execute();
    await h.deps.db.updateTable('audit_events').set({ seq: 700 }).where('seq', '=', 701).execute();
    await h.deps.db.updateTable('audit_events').set({ seq: 701 }).where('seq', '=', -1).execute();
    const report = await verify();
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toMatch(/^audit log BROKEN at event 700: event 700 follows event 701 in the chain, not event 699: events were reordered/);
  });

  it.each([
    ['plain SHA-256', sha256, 'carries a plain SHA-256 hash'],
    ["the attacker's own key", attackerMac, 'does not match its MAC'],
  ])('an event appended by hand (hashed with %s) is named', async (_name, hashOf, problem) => {
    const last = original[original.length - 1];
    const forged = { seq: newest + 1, id: randomUUID(), at: new Date().toISOString(), actor_id: h.people.admin.id, actor_kind: 'user', action: 'policy.changed', device_id: null, volume_id: null, detail: '{}', ip: null, prev_hash: last.hash };
    const hash = hashOf(forged);
    await h.deps.db.insertInto('audit_events').values({ ...forged, hash }).execute();
    await setHead(forged.seq, hash);
    const report = await verify();
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toContain(`audit log BROKEN at event ${newest + 1}: event ${newest + 1} ${problem}`);
  });

  it('the newest events deleted and the head reset to match are caught by the checkpoint, and reported live', async () => {
    const keep = await event(newest - 3);
    await h.deps.db.deleteFrom('audit_events').where('seq', '>', keep.seq).execute();
    await setHead(keep.seq, keep.hash);
    const report = await verify();
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toContain(`audit log BROKEN at event ${newest - 2}: events ${newest - 2}–${newest} are missing: checkpoint ${checkpointFile()}:1 recorded event ${newest}`);

    await writer.checkpoint();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatch(new RegExp(`^keyward: AUDIT ALARM: the audit log went backwards: its head is event ${newest - 3}, but the checkpoint written at .* recorded event ${newest}; events were deleted \\(truncation\\)$`));
  });

  it.each([
    ['plain SHA-256', sha256, 'audit log BROKEN at event 1: event 1 carries a plain SHA-256 hash'],
    ["the attacker's own key", attackerMac, 'audit log BROKEN at event 1: event 1 does not match its MAC'],
  ])('a chain recomputed with %s after an edit is caught, and reported live', async (_name, hashOf, first) => {
    await h.deps.db.updateTable('audit_events').set({ detail: '{"i":0,"note":"nothing to see"}' }).where('seq', '=', 900).execute();
    await recompute(hashOf);
    const report = await verify();
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toContain(first);

    await writer.checkpoint();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatch(new RegExp(`^keyward: AUDIT ALARM: audit event ${newest} has changed since the checkpoint written at .* recorded it; the log was rewritten$`));
  });

  it('an edited checkpoint line fails its signature', async () => {
    const [line] = readFileSync(checkpointFile(), 'utf8').split('\n');
    const edited = JSON.parse(line) as { seq: number };
    writeFileSync(checkpointFile(), JSON.stringify({ ...edited, seq: edited.seq - 3 }) + '\n');
    const report = await verify();
    expect(report.exitCode).toBe(1);
    expect(report.lines).toContain(`audit checkpoint BROKEN: ${checkpointFile()}:1: bad checkpoint signature (it claims event ${newest - 3})`);

    // A service starting on that file says so too.
    const resumed = await startWriter();
    await resumed.stop();
    expect(alarms).toEqual([`keyward: AUDIT ALARM: the last checkpoint in ${checkpointFile()} cannot be trusted: bad checkpoint signature (it claims event ${newest - 3})`]);
  });
});
