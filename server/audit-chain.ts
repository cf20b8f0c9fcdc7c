/**
 * PostgreSQL: links audit events into the keyed chain after their transactions committed
 * (audit.ts writes each with a number from a sequence, the MAC of its own content and an empty
 * link). One step at a time across every instance (a transaction-scoped advisory lock that a
 * busy instance skips rather than waits for) takes the events after the head in number order,
 * checks each one's own MAC, links it to the one before, and moves the head — one UPDATE for
 * the whole step. Every instance runs steps in the background; the checkpoint writer runs one
 * before each checkpoint.
 *
 * Numbers are handed out before commit, so a later number can commit first. A step links the
 * numbers that follow the head without a hole; at a hole it waits until the hole is settled:
 * every number up to the sequence's value read at an earlier step belongs to a transaction
 * that had its id before that read (audit.ts takes the id first), so once every transaction
 * of the snapshot taken right after that read has ended, a number still missing was rolled back
 * and the chain links over it.
 */
import { sql, type Transaction } from 'kysely';
import type { AppDeps } from './deps.ts';
import type { Database } from './db/schema.ts';
import { auditEventMac, PENDING_LINK } from './audit.ts';

/** The advisory lock of the chaining step. */
const AUDIT_CHAIN_LOCK = 7_455_014;
/** Events linked per step at most. */
const STEP = 1000;

/** What this instance saw at its last step: the sequence's value, then which transactions were running. */
export type ChainFrontier = { seq: number; xmax: bigint };

/**
 * One instance's chaining state between steps: the frontier it waits on, and the highest number
 * known settled (settled for good: no transaction can still commit it).
 */
export type AuditChainer = { frontier: ChainFrontier | null; settled: number };

export function newAuditChainer(): AuditChainer {
  return { frontier: null, settled: 0 };
}

export type ChainStep = {
  /** Events linked by this step. */
  chained: number;
  /** More may be waiting (another instance held the step, a hole not settled yet, or a full step). */
  more: boolean;
  /** An event after the head that cannot be chained (edited or added by hand): left as it is, for verify-audit to name. */
  problem: string | null;
};

type ChainDeps = Pick<AppDeps, 'db' | 'auditKey'>;

/** The highest number known settled: its frontier is settled once every transaction running when it was read has ended. */
async function settledUpTo(trx: Transaction<Database>, chainer: AuditChainer): Promise<number> {
  const frontier = chainer.frontier;
  if (!frontier) return chainer.settled;
  const { rows } = await sql<{ xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(trx);
  if (BigInt(rows[0].xmin) >= frontier.xmax) {
    chainer.settled = Math.max(chainer.settled, frontier.seq);
    chainer.frontier = null;
  }
  return chainer.settled;
}

/** Reads the sequence, then the running transactions (in this order: see the module comment). */
async function readFrontier(trx: Transaction<Database>): Promise<ChainFrontier> {
  const sequence = await sql<{ last_value: string; is_called: boolean }>`select last_value::text as last_value, is_called from audit_event_seq`.execute(trx);
  const { last_value: lastValue, is_called: called } = sequence.rows[0];
  const snapshot = await sql<{ xmax: string }>`select pg_snapshot_xmax(pg_current_snapshot())::text as xmax`.execute(trx);
  return { seq: called ? Number(lastValue) : Number(lastValue) - 1, xmax: BigInt(snapshot.rows[0].xmax) };
}

/** Links the committed events after the head, as far as it can; several instances may call it at once. */
export async function chainAuditEvents(deps: ChainDeps, chainer: AuditChainer): Promise<ChainStep> {
  return deps.db.transaction().execute(async (trx): Promise<ChainStep> => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${AUDIT_CHAIN_LOCK}) as locked`.execute(trx);
    if (!rows[0].locked) return { chained: 0, more: true, problem: null };
    // Before this transaction takes an id (the row lock below), so it never waits for itself.
    const settled = await settledUpTo(trx, chainer);
    const head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
    const waiting = await trx.selectFrom('audit_events').selectAll().where('seq', '>', head.seq).orderBy('seq').limit(STEP).execute();
    const links: { seq: number; prev: string; hash: string }[] = [];
    let prev = head.hash;
    let last = head.seq;
    let problem: string | null = null;
    let blocked = false;
    for (const e of waiting) {
      if (e.seq !== last + 1 && e.seq - 1 > settled) {
        blocked = true;
        break;
      }
      const { hash, ...content } = e;
      if (e.prev_hash !== PENDING_LINK || auditEventMac(deps.auditKey, content) !== hash) {
        problem = `audit event ${e.seq} after the head of the chain was not written by the service (it ${e.prev_hash === PENDING_LINK ? 'does not match its MAC' : 'claims a link already'}): it was edited or added by hand; it is left unchained, run keyward verify-audit`;
        break;
      }
      const linked = auditEventMac(deps.auditKey, { ...content, prev_hash: prev });
      links.push({ seq: e.seq, prev, hash: linked });
      prev = linked;
      last = e.seq;
    }
    if (links.length > 0) {
      await sql`update audit_events as e set prev_hash = v.prev, hash = v.hash
        from unnest(${links.map((l) => l.seq)}::integer[], ${links.map((l) => l.prev)}::text[], ${links.map((l) => l.hash)}::text[]) as v(seq, prev, hash)
        where e.seq = v.seq`.execute(trx);
      await trx.updateTable('audit_head').set({ seq: last, hash: prev }).where('id', '=', 1).execute();
    }
    // A frontier not settled yet is kept (a newer one would only settle later).
    chainer.frontier ??= await readFrontier(trx);
    return { chained: links.length, more: blocked || waiting.length === STEP, problem };
  });
}

/**
 * Brings the sequence up to the log's newest event, never back: events put in by hand (a
 * restored or legacy log) must not be handed out again. Run at start, before any append.
 */
export async function alignAuditSequence(deps: Pick<AppDeps, 'db'>): Promise<void> {
  await sql`select setval('audit_event_seq', m.seq) from (select max(seq) as seq from audit_events) as m, audit_event_seq as s
    where m.seq is not null and m.seq > case when s.is_called then s.last_value else s.last_value - 1 end`.execute(deps.db);
}

export type AuditChainRunner = { stop(): Promise<void> };

/** How long the background loop rests after a step that found nothing to do, and after one that did. */
const IDLE_MS = 50;
const BUSY_MS = 5;

/** Runs chaining steps in the background until stopped (PostgreSQL); problems go to `alert`, each once. */
export function startAuditChainer(deps: ChainDeps, alert: (line: string) => void): AuditChainRunner {
  const chainer = newAuditChainer();
  let running = true;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> = Promise.resolve();
  let lastProblem: string | null = null;
  const step = async () => {
    let rest = IDLE_MS;
    try {
      const done = await chainAuditEvents(deps, chainer);
      if (done.problem && done.problem !== lastProblem) alert(`keyward: AUDIT ALARM: ${done.problem}`);
      lastProblem = done.problem;
      if (done.chained > 0 || done.more) rest = BUSY_MS;
    } catch (error) {
      if (running) alert(`keyward: chaining audit events failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (running) schedule(rest);
  };
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      current = step();
    }, ms);
    timer.unref();
  };
  schedule(0);
  return {
    stop: async () => {
      running = false;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
