/**
 * The append-only audit log. Every event carries an HMAC-SHA256 (RFC 2104), under the audit
 * key kept outside the database (crypto/audit-key.ts), of its canonical content and the
 * previous event's MAC: a keyed chain that someone with only database access can neither
 * edit, reorder, extend nor recompute without `verifyAuditChain` naming the first bad event.
 * Deleting the newest events and resetting the head leaves a valid chain, so the head is also
 * anchored outside the database by signed checkpoints (audit-checkpoints.ts), which
 * `verifyAuditChain` checks the chain against. Events are appended inside the caller's
 * transaction, so an action whose event cannot be written is rolled back with it; an append
 * costs one HMAC and no more database round trips than an unkeyed chain.
 *
 * On SQLite (one writer) an event is linked as it is written. On PostgreSQL, where writers of
 * several instances run at once, an event takes its `seq` from a sequence, carries a MAC of its
 * own content with an empty link (`prev_hash` = ''), and is linked into the chain after its
 * transaction committed (audit-chain.ts), so no lock is shared by concurrent writers. Numbers of
 * transactions that rolled back are gaps the chain links over; a gap whose next event does not
 * link to the event before it is a deletion.
 */
import { createHash, createHmac } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Database, AuditEventTable, AuditHeadTable } from './db/schema.ts';
import { newId } from './db/ids.ts';
import type { AppDeps } from './deps.ts';
import type { AuditKey } from './crypto/audit-key.ts';

export type ActorKind = 'user' | 'agent' | 'system';

export type AuditInput = {
  actorId: string | null;
  actorKind: ActorKind;
  action: string;
  deviceId?: string | null;
  volumeId?: string | null;
  detail?: Record<string, unknown>;
  ip?: string | null;
};

type Hashed = Omit<AuditEventTable, 'hash'>;

/** The `prev_hash` of event 1 and the head of an empty log. */
export const GENESIS_HASH = '0'.repeat(64);

/** The event written when a log from before keyed hashes is sealed under the audit key. */
export const CHAIN_SEALED_ACTION = 'audit.chain_sealed';

function canonical(e: Hashed): string {
  return JSON.stringify([e.seq, e.id, e.at, e.actor_id, e.actor_kind, e.action, e.device_id, e.volume_id, e.detail, e.ip, e.prev_hash]);
}

export function auditEventMac(key: AuditKey, e: Hashed): string {
  return createHmac('sha256', key.mac).update(canonical(e), 'utf8').digest('hex');
}

/** The plain SHA-256 the chain used before it was keyed: only to recognise (and seal) such events. */
export function unkeyedAuditHash(e: Hashed): string {
  return createHash('sha256').update(canonical(e), 'utf8').digest('hex');
}

/** What appending an event needs from the service's dependencies. */
export type AuditDeps = Pick<AppDeps, 'dbKind' | 'auditKey'>;

/** The link of an event written but not yet chained (PostgreSQL). */
export const PENDING_LINK = '';

/** Appends one event: linked at once on SQLite, chained after commit on PostgreSQL (audit-chain.ts). */
export async function appendAudit(trx: Transaction<Database>, deps: AuditDeps, at: string, input: AuditInput): Promise<number> {
  const pending = deps.dbKind === 'postgres';
  const head = pending ? null : await chainHead(trx);
  // Hashed exactly as stored: a lone surrogate would be stored as U+FFFD and then never verify.
  const stored = (text: string | null | undefined) => (text == null ? null : text.toWellFormed());
  const row: Hashed = {
    seq: head ? head.seq + 1 : await nextAuditSeq(trx),
    id: newId(),
    at,
    actor_id: stored(input.actorId),
    actor_kind: input.actorKind,
    action: input.action.toWellFormed(),
    device_id: stored(input.deviceId),
    volume_id: stored(input.volumeId),
    detail: JSON.stringify(input.detail ?? {}),
    ip: stored(input.ip),
    prev_hash: head ? head.hash : PENDING_LINK,
  };
  const event: AuditEventTable = { ...row, hash: auditEventMac(deps.auditKey, row) };
  await insertEvent(trx, event);
  if (head) await sql`update audit_head set seq = ${event.seq}, hash = ${event.hash} where id = 1`.execute(trx);
  return row.seq;
}

/** SQLite: the newest event's number and MAC, which the new event links to. */
async function chainHead(trx: Transaction<Database>): Promise<Pick<AuditHeadTable, 'seq' | 'hash'>> {
  const head = (await sql<Pick<AuditHeadTable, 'seq' | 'hash'>>`select seq, hash from audit_head where id = 1`.execute(trx)).rows[0];
  if (!head) throw new Error('the audit log has no head row');
  return head;
}

/** Every action writes one event: fixed statements, not ones the query builder assembles and compiles anew each time. */
function insertEvent(trx: Transaction<Database>, e: AuditEventTable): Promise<unknown> {
  return sql`insert into audit_events (seq, id, at, actor_id, actor_kind, action, device_id, volume_id, detail, ip, prev_hash, hash)
    values (${e.seq}, ${e.id}, ${e.at}, ${e.actor_id}, ${e.actor_kind}, ${e.action}, ${e.device_id}, ${e.volume_id}, ${e.detail}, ${e.ip}, ${e.prev_hash}, ${e.hash})`.execute(trx);
}

/**
 * PostgreSQL: the event's number. The transaction takes its id first (the materialized CTE runs
 * before the outer select), so every number handed out before the chainer reads the sequence
 * belongs to a transaction its snapshot lists as running or finished (audit-chain.ts).
 */
async function nextAuditSeq(trx: Transaction<Database>): Promise<number> {
  const { rows } = await sql<{ seq: string }>`with own as materialized (select pg_current_xact_id()) select nextval('audit_event_seq')::text as seq from own`.execute(trx);
  return Number(rows[0].seq);
}

/** A point of the chain recorded outside the database: event `seq` had `hash` (`source` says where). */
export type AuditAnchor = { seq: number; hash: string; at: string; source: string };

export type AuditProblem = 'mac' | 'unkeyed' | 'gap' | 'order' | 'head' | 'truncated' | 'checkpoint';

/** When the log was sealed under the audit key, how many events were written before that. */
export type AuditSealInfo = { seq: number; at: string; legacyEvents: number };

export type AuditVerification =
  /** `pending`: the newest events, written but not chained yet (PostgreSQL), each verified against its own MAC. */
  | { ok: true; count: number; anchors: number; sealed: AuditSealInfo | null; pending: number }
  | { ok: false; count: number; brokenAtSeq: number; problem: AuditProblem; message: string };

const PAGE = 1000;

/**
 * Recomputes the whole chain in order, in pages, and checks it against the head row and the
 * anchors (checkpoints). `count` is the number of the last event verified before the first bad
 * one. Events written but not chained yet (PostgreSQL) may only follow the chain, each carrying
 * the MAC of its own content.
 */
export async function verifyAuditChain(deps: Pick<AppDeps, 'db' | 'auditKey'>, anchors: readonly AuditAnchor[] = []): Promise<AuditVerification> {
  const { db, auditKey } = deps;
  const anchorsAt = new Map<number, AuditAnchor[]>();
  for (const a of anchors) anchorsAt.set(a.seq, [...(anchorsAt.get(a.seq) ?? []), a]);
  const broken = (count: number, brokenAtSeq: number, problem: AuditProblem, message: string): AuditVerification => ({ ok: false, count, brokenAtSeq, problem, message });
  const anchorMismatch = (seq: number, hash: string) => anchorsAt.get(seq)?.find((a) => a.hash !== hash);

  let prev = GENESIS_HASH;
  let count = 0;
  let chained = 0;
  let pending = 0;
  let sealed: AuditSealInfo | null = null;
  const genesisAnchor = anchorMismatch(0, GENESIS_HASH);
  if (genesisAnchor) return broken(0, 1, 'checkpoint', `checkpoint ${genesisAnchor.source} records an empty log with a head hash that is not the genesis hash`);
  const stray = await db.selectFrom('audit_events').select('seq').where('seq', '<', 1).orderBy('seq').executeTakeFirst();
  if (stray) return broken(0, stray.seq, 'order', `event ${stray.seq} lies before the start of the chain (event 1): it was added by hand`);
  for (;;) {
    const page = await db.selectFrom('audit_events').selectAll().where('seq', '>', count).orderBy('seq').limit(PAGE).execute();
    for (const e of page) {
      const expected = count + 1;
      if (e.prev_hash === PENDING_LINK) {
        const { hash, ...rest } = e;
        if (auditEventMac(auditKey, rest) !== hash) {
          return broken(count, e.seq, 'mac', `event ${e.seq} does not match its MAC: its content was edited before it was chained, or it was hashed with another key`);
        }
        const differs = anchorMismatch(e.seq, hash);
        if (differs) return broken(count, e.seq, 'checkpoint', `event ${e.seq} is not the event checkpoint ${differs.source} recorded at ${differs.at}: the log was rewritten`);
        pending += 1;
        count = e.seq;
        continue;
      }
      if (pending > 0) return broken(count, e.seq, 'order', `event ${e.seq} is chained after events not chained yet: it was added by hand`);
      // A number skipped by a transaction that rolled back (PostgreSQL) leaves the link intact.
      if (e.seq !== expected && e.prev_hash !== prev) {
        return broken(count, expected, 'gap', `event ${expected} is missing (the next event is ${e.seq}): events ${expected}–${e.seq - 1} were deleted`);
      }
      if (e.prev_hash !== prev) {
        const linked = await db.selectFrom('audit_events').select('seq').where('hash', '=', e.prev_hash).executeTakeFirst();
        return broken(count, e.seq, 'order', linked
          ? `event ${e.seq} follows event ${linked.seq} in the chain, not event ${e.seq - 1}: events were reordered`
          : `event ${e.seq} does not follow event ${e.seq - 1} in the chain: an event before it was replaced or removed`);
      }
      const { hash, ...rest } = e;
      if (auditEventMac(auditKey, rest) !== hash) {
        return unkeyedAuditHash(rest) === hash
          ? broken(count, e.seq, 'unkeyed', `event ${e.seq} carries a plain SHA-256 hash, not a MAC under the audit key: the chain was recomputed without the key, or was never sealed under it`)
          : broken(count, e.seq, 'mac', `event ${e.seq} does not match its MAC: its content was edited, or it was hashed with another key`);
      }
      const differs = anchorMismatch(e.seq, hash);
      if (differs) return broken(count, e.seq, 'checkpoint', `event ${e.seq} is not the event checkpoint ${differs.source} recorded at ${differs.at}: the log was rewritten`);
      if (e.action === CHAIN_SEALED_ACTION) sealed = { seq: e.seq, at: e.at, legacyEvents: sealedLegacyEvents(e.detail) };
      prev = hash;
      count = e.seq;
      chained = e.seq;
    }
    if (page.length < PAGE) break;
  }
  const newest = anchors.reduce<AuditAnchor | null>((max, a) => (a.seq > (max?.seq ?? count) ? a : max), null);
  if (newest) {
    return broken(count, count + 1, 'truncated', `events ${count + 1}–${newest.seq} are missing: checkpoint ${newest.source} recorded event ${newest.seq} at ${newest.at}, the log ends at event ${count} (truncated)`);
  }
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  if (head.seq !== chained || head.hash !== prev) {
    return broken(count, Math.min(head.seq, chained) + 1, 'head', `the head row says the log ends at event ${head.seq}, but it ends at event ${chained}${head.seq === chained ? ' with another hash' : ''}`);
  }
  return { ok: true, count, anchors: anchors.length, sealed, pending };
}

function sealedLegacyEvents(detail: string): number {
  try {
    const parsed: unknown = JSON.parse(detail);
    if (parsed && typeof parsed === 'object' && 'legacyEvents' in parsed && typeof parsed.legacyEvents === 'number') return parsed.legacyEvents;
  } catch {
    // An unreadable detail still verified under the MAC, so it was written that way.
  }
  return 0;
}
