/**
 * Destroys retired and rejected key versions once their retention period is over: the
 * ciphertext and wrapped data key are erased (the row stays, so versions and the audit log
 * still make sense). Runs at start-up and then periodically.
 */
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { appendAudit } from '../audit.ts';

export const DESTROYED = '';

export async function destroyExpiredKeyVersions(deps: AppDeps, retentionDays: number): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - retentionDays * 86_400_000).toISOString();
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const expired = await trx
      .selectFrom('key_versions')
      .select(['id', 'device_id', 'volume_id', 'version'])
      .where('state', 'in', ['retired', 'rejected'])
      .where('updated_at', '<', cutoff)
      .where('ciphertext', '!=', DESTROYED)
      .execute();
    for (const v of expired) {
      await trx.updateTable('key_versions').set({ ciphertext: DESTROYED, wrapped_key: DESTROYED }).where('id', '=', v.id).execute();
      await appendAudit(trx, deps, at, { actorId: null, actorKind: 'system', action: 'key.destroyed', deviceId: v.device_id, volumeId: v.volume_id, detail: { version: v.version, retentionDays } });
    }
    return expired.length;
  });
}
