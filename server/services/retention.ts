/**
 * Destroys retired and rejected key versions once their retention period is over, and every
 * key of a device retired longer ago than that: the ciphertext and wrapped data key are erased
 * (the row stays, so versions and the audit log still make sense). Runs at start-up and then
 * periodically.
 */
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import { FINISHED_KEY_VERSION_STATES, FINISHED_OPERATION_STATES } from '../db/states.ts';
import { destroyKeyVersion } from './key-lifecycle.ts';
import { DESTROYED } from './key-versions.ts';

/** The instant before which what finished is older than the retention period. */
function retentionCutoff(deps: Pick<AppDeps, 'clock'>, retentionDays: number): string {
  return new Date(deps.clock.now().getTime() - retentionDays * 86_400_000).toISOString();
}

export async function destroyExpiredKeyVersions(deps: AppDeps, retentionDays: number): Promise<number> {
  const cutoff = retentionCutoff(deps, retentionDays);
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    // Two lookups, each on its own index, rather than one OR that PostgreSQL answers with a full scan.
    const columns = ['id', 'device_id', 'volume_id', 'version', 'state'] as const;
    const outOfRetention = await trx
      .selectFrom('key_versions')
      .select(columns)
      .where('state', 'in', FINISHED_KEY_VERSION_STATES)
      .where('updated_at', '<', cutoff)
      .where('ciphertext', '!=', DESTROYED)
      .execute();
    const ofRetiredDevices = await trx
      .selectFrom('key_versions')
      .select(columns)
      .where('device_id', 'in', (eb) => eb.selectFrom('devices').select('id').where('retired_at', '<', cutoff))
      .where('ciphertext', '!=', DESTROYED)
      .execute();
    const seen = new Set(outOfRetention.map((v) => v.id));
    const expired = [...outOfRetention, ...ofRetiredDevices.filter((v) => !seen.has(v.id))];
    for (const v of expired) {
      await destroyKeyVersion(trx, v);
      await appendAudit(trx, deps, at, { actorId: null, actorKind: 'system', action: 'key.destroyed', deviceId: v.device_id, volumeId: v.volume_id, detail: { version: v.version, retentionDays } });
    }
    return expired.length;
  });
}

/** Finished operations deleted per transaction, so pruning a long history never holds the write lock for long. */
const PRUNE_BATCH = 1_000;

/**
 * Deletes finished (succeeded or failed) operations older than the retention period, except
 * each volume's newest operation: device pages and statuses are built from that one, so what
 * people see never changes. The audit log keeps its own record of every request and outcome.
 * Idempotency records of stores older than the period go too (a retry that late is a new store).
 * One audit event says how many were pruned. Returns the number of operations deleted.
 */
export async function pruneFinishedOperations(deps: AppDeps, retentionDays: number): Promise<number> {
  const cutoff = retentionCutoff(deps, retentionDays);
  await deps.db.deleteFrom('idempotency').where('created_at', '<', cutoff).execute();
  let total = 0;
  for (;;) {
    const deleted = await deps.db.transaction().execute(async (trx) => {
      const batch = await trx
        .selectFrom('operations as o')
        .select('o.id')
        .where('o.state', 'in', FINISHED_OPERATION_STATES)
        .where('o.updated_at', '<', cutoff)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('operations as n')
              .select('n.id')
              .whereRef('n.volume_id', '=', 'o.volume_id')
              .where((eb) => eb.or([eb('n.created_at', '>', eb.ref('o.created_at')), eb.and([eb('n.created_at', '=', eb.ref('o.created_at')), eb('n.id', '<', eb.ref('o.id'))])])),
          ),
        )
        .limit(PRUNE_BATCH)
        .execute();
      if (batch.length === 0) return 0;
      await trx.deleteFrom('operations').where('id', 'in', batch.map((b) => b.id)).execute();
      return batch.length;
    });
    total += deleted;
    if (deleted < PRUNE_BATCH) break;
  }
  if (total > 0) {
    const at = nowIso(deps);
    await deps.db.transaction().execute((trx) =>
      appendAudit(trx, deps, at, { actorId: null, actorKind: 'system', action: 'operations.pruned', detail: { count: total, finishedBefore: cutoff } }),
    );
  }
  return total;
}
