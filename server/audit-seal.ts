/**
 * The audit chain at start-up. The newest event is checked against the audit key (one read,
 * whatever the log's size). A log written before events were keyed (plain SHA-256) is sealed
 * once: its old chain is verified in full, every event's hash is recomputed as a MAC under the
 * audit key (content unchanged), and an `audit.chain_sealed` event records how many events
 * were written unkeyed. Sealing happens only while this instance's checkpoint file holds no
 * checkpoint signed by this key: once one exists the log was keyed, so an unkeyed head means
 * someone recomputed the chain without the key, and it is reported, never sealed.
 */
import type { AppDeps } from './deps.ts';
import { appendAudit, auditEventMac, CHAIN_SEALED_ACTION, GENESIS_HASH, unkeyedAuditHash } from './audit.ts';
import { hasOwnCheckpoint } from './audit-checkpoints.ts';
import { alignAuditSequence } from './audit-chain.ts';

type SealDeps = Pick<AppDeps, 'db' | 'dbKind' | 'auditKey'>;

export type AuditHeadState = 'empty' | 'keyed' | 'unkeyed' | 'unverifiable';

/** How the newest event is hashed: under this key, as plain SHA-256, or neither. */
export async function auditHeadState(deps: Pick<AppDeps, 'db' | 'auditKey'>): Promise<{ state: AuditHeadState; seq: number }> {
  const head = await deps.db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  if (head.seq === 0) return { state: 'empty', seq: 0 };
  const event = await deps.db.selectFrom('audit_events').selectAll().where('seq', '=', head.seq).executeTakeFirst();
  if (!event || event.hash !== head.hash) return { state: 'unverifiable', seq: head.seq };
  const { hash, ...rest } = event;
  if (auditEventMac(deps.auditKey, rest) === hash) return { state: 'keyed', seq: head.seq };
  return { state: unkeyedAuditHash(rest) === hash ? 'unkeyed' : 'unverifiable', seq: head.seq };
}

class BrokenUnkeyedChain extends Error {
  readonly seq: number;
  constructor(seq: number) {
    super(`unkeyed audit chain broken at event ${seq}`);
    this.seq = seq;
  }
}

export type SealOutcome = { sealed: true; legacyEvents: number } | { sealed: false; brokenAtSeq: number | null };

const PAGE = 1000;

/**
 * Verifies the unkeyed chain and re-seals it under the audit key, in one transaction that holds
 * the head (a second instance starting at the same time finds it sealed and does nothing).
 */
export async function sealUnkeyedChain(deps: SealDeps, at: string): Promise<SealOutcome> {
  try {
    return await deps.db.transaction().execute(async (trx) => {
      let headQuery = trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
      if (deps.dbKind === 'postgres') headQuery = headQuery.forUpdate();
      const head = await headQuery.executeTakeFirstOrThrow();
      let oldPrev = GENESIS_HASH;
      let newPrev = GENESIS_HASH;
      let seq = 0;
      for (;;) {
        const page = await trx.selectFrom('audit_events').selectAll().where('seq', '>', seq).orderBy('seq').limit(PAGE).execute();
        for (const e of page) {
          const { hash, ...rest } = e;
          if (e.seq !== seq + 1 || e.prev_hash !== oldPrev || unkeyedAuditHash(rest) !== hash) {
            // Sealed by another instance meanwhile: its first event is already keyed.
            if (seq === 0 && auditEventMac(deps.auditKey, rest) === hash) return { sealed: false, brokenAtSeq: null };
            throw new BrokenUnkeyedChain(seq + 1);
          }
          const mac = auditEventMac(deps.auditKey, { ...rest, prev_hash: newPrev });
          await trx.updateTable('audit_events').set({ prev_hash: newPrev, hash: mac }).where('seq', '=', e.seq).execute();
          oldPrev = hash;
          newPrev = mac;
          seq = e.seq;
        }
        if (page.length < PAGE) break;
      }
      if (head.seq !== seq || head.hash !== oldPrev) throw new BrokenUnkeyedChain(Math.min(head.seq, seq) + 1);
      await trx.updateTable('audit_head').set({ hash: newPrev }).where('id', '=', 1).execute();
      await appendAudit(trx, deps, at, {
        actorId: null,
        actorKind: 'system',
        action: CHAIN_SEALED_ACTION,
        detail: { legacyEvents: seq, legacyHeadHash: oldPrev, auditKeyId: deps.auditKey.id },
      });
      return { sealed: true, legacyEvents: seq };
    });
  } catch (error) {
    if (error instanceof BrokenUnkeyedChain) return { sealed: false, brokenAtSeq: error.seq };
    throw error;
  }
}

export type StartCheck = { checkpointPath: string; at: string; say(line: string): void; alert(line: string): void };

/** Checks the newest event, seals an unkeyed log when that is allowed, and reports what it found. */
export async function checkAuditChainAtStart(deps: SealDeps, o: StartCheck): Promise<AuditHeadState> {
  if (deps.dbKind === 'postgres') await alignAuditSequence(deps);
  const { state, seq } = await auditHeadState(deps);
  if (state === 'unverifiable') {
    o.alert(`keyward: AUDIT ALARM: the newest audit event (${seq}) does not verify under this audit key (${deps.auditKey.id}): the log was altered, or this instance was given another audit key file than the one that sealed it; run keyward verify-audit`);
  } else if (state === 'unkeyed') {
    if (hasOwnCheckpoint(o.checkpointPath, deps.auditKey)) {
      o.alert(`keyward: AUDIT ALARM: the audit log carries plain SHA-256 hashes although ${o.checkpointPath} holds checkpoints of it keyed: the chain was recomputed without the audit key; not sealed again, run keyward verify-audit`);
    } else {
      const outcome = await sealUnkeyedChain(deps, o.at);
      if (outcome.sealed) o.say(`keyward: audit log sealed under the audit key (${outcome.legacyEvents} events written before keyed hashes)`);
      else if (outcome.brokenAtSeq !== null) o.alert(`keyward: AUDIT ALARM: the audit log from before keyed hashes is broken at event ${outcome.brokenAtSeq}; it was not sealed under the audit key; run keyward verify-audit`);
    }
  }
  return state;
}
