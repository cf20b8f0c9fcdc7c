/**
 * The append-only audit log. Every event carries the SHA-256 of the previous event's hash and
 * its own canonical content, forming a hash chain; `verifyAuditChain` recomputes it and names
 * the first altered event. Events are appended inside the caller's transaction, so an action
 * whose event cannot be written is rolled back with it.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, AuditEventTable } from './db/schema.ts';
import type { AppDeps } from './deps.ts';

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

function canonical(e: Hashed): string {
  return JSON.stringify([e.seq, e.id, e.at, e.actor_id, e.actor_kind, e.action, e.device_id, e.volume_id, e.detail, e.ip, e.prev_hash]);
}

export function hashAuditEvent(e: Hashed): string {
  return createHash('sha256').update(canonical(e), 'utf8').digest('hex');
}

/** What appending an event needs from the service's dependencies. */
export type AuditDeps = Pick<AppDeps, 'dbKind'>;

/** Appends one event; the head row is locked (PostgreSQL) so the chain stays linear. */
export async function appendAudit(trx: Transaction<Database>, deps: AuditDeps, at: string, input: AuditInput): Promise<number> {
  let headQuery = trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
  if (deps.dbKind === 'postgres') headQuery = headQuery.forUpdate();
  const head = await headQuery.executeTakeFirstOrThrow();
  // Hashed exactly as stored: a lone surrogate would be stored as U+FFFD and then never verify.
  const stored = (text: string | null | undefined) => (text == null ? null : text.toWellFormed());
  const row: Hashed = {
    seq: head.seq + 1,
    id: randomUUID(),
    at,
    actor_id: stored(input.actorId),
    actor_kind: input.actorKind,
    action: input.action.toWellFormed(),
    device_id: stored(input.deviceId),
    volume_id: stored(input.volumeId),
    detail: JSON.stringify(input.detail ?? {}),
    ip: stored(input.ip),
    prev_hash: head.hash,
  };
  const hash = hashAuditEvent(row);
  await trx.insertInto('audit_events').values({ ...row, hash }).execute();
  await trx.updateTable('audit_head').set({ seq: row.seq, hash }).where('id', '=', 1).execute();
  return row.seq;
}

export type AuditVerification = { ok: true; count: number } | { ok: false; count: number; brokenAtSeq: number };

/** Recomputes the whole chain in order, in pages. */
export async function verifyAuditChain(db: Kysely<Database>): Promise<AuditVerification> {
  let prev = '0'.repeat(64);
  let expectedSeq = 1;
  let count = 0;
  for (;;) {
    const page = await db.selectFrom('audit_events').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(1000).execute();
    for (const e of page) {
      const { hash, ...rest } = e;
      if (e.seq !== expectedSeq || e.prev_hash !== prev || hashAuditEvent(rest) !== hash) {
        return { ok: false, count, brokenAtSeq: expectedSeq };
      }
      prev = hash;
      expectedSeq += 1;
      count += 1;
    }
    if (page.length < 1000) break;
  }
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  if (head.seq !== count || head.hash !== prev) return { ok: false, count, brokenAtSeq: count + 1 };
  return { ok: true, count };
}
