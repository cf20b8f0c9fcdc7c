/**
 * PostgreSQL: audit events are chained after commit (server/audit-chain.ts). Writers of two
 * instances on one database append without waiting for each other; a number still held by an
 * open transaction is never linked over, one rolled back is once settled; chaining steps run
 * by both instances at once link every committed event exactly once, and the chain verifies;
 * an event edited before or after it was chained is named.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { appendAudit, PENDING_LINK, verifyAuditChain, type AuditInput } from '../../server/audit.ts';
import { chainAuditEvents, newAuditChainer, type AuditChainer } from '../../server/audit-chain.ts';
import { dropPostgresSchema, openDatabase, type OpenedDatabase } from '../../server/db/open.ts';
import type { Database } from '../../server/db/schema.ts';
import { defaultAuditKeyPath, loadOrCreateAuditKeyFile, type AuditKey } from '../../server/crypto/audit-key.ts';
import { runVerifyAudit } from '../../server/verify-audit.ts';
import { PG_URL } from './harness.ts';

class RolledBack extends Error {}

describe('audit chain after commit (PostgreSQL)', () => {
  const schema = `kw_chain_${process.pid}_${randomBytes(4).toString('hex')}`;
  let dir: string;
  let auditKey: AuditKey;
  let one: OpenedDatabase;
  let two: OpenedDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-chain-'));
    auditKey = loadOrCreateAuditKeyFile(defaultAuditKeyPath(dir)).auditKey;
    one = await openDatabase({ databaseUrl: PG_URL, pgSchema: schema, pgPoolSize: 8 });
    two = await openDatabase({ databaseUrl: PG_URL, pgSchema: schema, pgPoolSize: 8 });
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await dropPostgresSchema(PG_URL, schema);
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = (db: Kysely<Database>) => ({ db, dbKind: 'postgres' as const, auditKey });
  const event = (label: string): AuditInput => ({ actorId: null, actorKind: 'system', action: 'test.chain', detail: { label } });
  const append = (db: Kysely<Database>, label: string) =>
    db.transaction().execute((trx) => appendAudit(trx, deps(db), new Date().toISOString(), event(label)));

  /**
   * Runs chaining steps on both instances at once until neither links anything more: nothing
   * waits, or 50 rounds in a row linked nothing (a hole that stays open: every round reads
   * whether it settled).
   */
  async function chainEverything(chainers: [AuditChainer, AuditChainer]): Promise<string[]> {
    const problems: string[] = [];
    let idle = 0;
    for (let rounds = 0; rounds < 2000; rounds++) {
      const steps = await Promise.all([chainAuditEvents(deps(one.db), chainers[0]), chainAuditEvents(deps(two.db), chainers[1])]);
      for (const s of steps) if (s.problem) problems.push(s.problem);
      if (steps.every((s) => s.chained === 0 && !s.more)) return problems;
      idle = steps.some((s) => s.chained > 0) ? 0 : idle + 1;
      if (idle >= 50) return problems;
    }
    throw new Error('chaining did not settle');
  }

  const unchained = async () => (await one.db.selectFrom('audit_events').select('seq').where('prev_hash', '=', PENDING_LINK).execute()).map((r) => r.seq);

  it('concurrent writers on two instances, some rolling back, are all chained once; the chain verifies', async () => {
    const chainers: [AuditChainer, AuditChainer] = [newAuditChainer(), newAuditChainer()];
    const background = chainEverything(chainers);
    const writes = Array.from({ length: 120 }, (_, i) => {
      const db = i % 2 ? two.db : one.db;
      if (i % 10 === 3) {
        return db.transaction().execute(async (trx) => {
          await appendAudit(trx, deps(db), new Date().toISOString(), event(`rolled back ${i}`));
          throw new RolledBack();
        }).catch((error: unknown) => {
          if (!(error instanceof RolledBack)) throw error;
          return null;
        });
      }
      return append(db, `write ${i}`);
    });
    const written = (await Promise.all(writes)).filter((seq): seq is number => seq !== null);
    expect(written).toHaveLength(108);
    expect(await background).toEqual([]);
    expect(await chainEverything(chainers)).toEqual([]);

    expect(await unchained()).toEqual([]);
    const stored = (await one.db.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((r) => r.seq);
    expect(stored).toEqual([...written].sort((a, b) => a - b));
    const verified = await verifyAuditChain({ db: two.db, auditKey });
    expect(verified).toMatchObject({ ok: true, pending: 0, count: Math.max(...written) });
    const head = await one.db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
    expect(head.seq).toBe(Math.max(...written));
  });

  it("a writer holding its transaction open blocks neither the other instance's writers nor is linked over", async () => {
    const chainers: [AuditChainer, AuditChainer] = [newAuditChainer(), newAuditChainer()];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldSeq = 0;
    let appended: () => void = () => undefined;
    const heldAppended = new Promise<void>((resolve) => (appended = resolve));
    const slow = one.db.transaction().execute(async (trx) => {
      try {
        heldSeq = await appendAudit(trx, deps(one.db), new Date().toISOString(), event('held open'));
      } finally {
        appended();
      }
      await held;
    });
    onTestFinished(() => release());
    await heldAppended;
    // Commits while the first transaction is still open: nothing serializes the two writers.
    const later = await append(two.db, 'committed meanwhile');
    expect(later).toBeGreaterThan(heldSeq);
    expect(await chainEverything(chainers)).toEqual([]);
    // The open transaction's number is a hole the chain must not cross: the later event waits.
    expect(await unchained()).toEqual([later]);
    expect(await verifyAuditChain({ db: one.db, auditKey })).toMatchObject({ ok: true, pending: 1 });
    const report = await runVerifyAudit({ dataDir: dir, databaseUrl: PG_URL, pgSchema: schema });
    expect(report.exitCode).toBe(0);
    expect(report.lines).toContain('note: the newest event is written but not chained yet (each matches its own MAC); a running service links them within moments');
    release();
    await slow;
    expect(await chainEverything(chainers)).toEqual([]);
    expect(await unchained()).toEqual([]);
    expect(await verifyAuditChain({ db: one.db, auditKey })).toMatchObject({ ok: true, pending: 0, count: later });
  });

  it('an event edited before it is chained is left unchained and named; one edited after, too', async () => {
    const chainers: [AuditChainer, AuditChainer] = [newAuditChainer(), newAuditChainer()];
    const edited = await append(one.db, 'to be edited');
    await one.db.updateTable('audit_events').set({ detail: '{"label":"edited"}' }).where('seq', '=', edited).execute();
    const problems = await chainEverything(chainers);
    expect(problems[0]).toMatch(new RegExp(`^audit event ${edited} after the head of the chain was not written by the service \\(it does not match its MAC\\)`));
    expect(await unchained()).toEqual([edited]);
    const before = await verifyAuditChain({ db: one.db, auditKey });
    expect(before).toMatchObject({ ok: false, brokenAtSeq: edited, problem: 'mac' });

    await one.db.updateTable('audit_events').set({ detail: '{"label":"to be edited"}' }).where('seq', '=', edited).execute();
    expect(await chainEverything(chainers)).toEqual([]);
    expect(await verifyAuditChain({ db: one.db, auditKey })).toMatchObject({ ok: true, pending: 0 });
    await one.db.updateTable('audit_events').set({ detail: '{"label":"edited later"}' }).where('seq', '=', edited).execute();
    expect(await verifyAuditChain({ db: one.db, auditKey })).toMatchObject({ ok: false, brokenAtSeq: edited, problem: 'mac' });
  });
});
