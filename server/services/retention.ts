/**
 * Destroys retired and rejected key versions once their retention period is over, and every
 * key of a device retired longer ago than that: the ciphertext and wrapped data key are erased
 * (the row stays, so versions and the audit log still make sense). Runs at start-up and then
 * periodically.
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
      .select(['id', 'device_id', 'volume_id', 'version', 'state'])
      .where((eb) => eb.or([
        eb.and([eb('state', 'in', ['retired', 'rejected']), eb('updated_at', '<', cutoff)]),
        eb('device_id', 'in', eb.selectFrom('devices').select('id').where('retired_at', '<', cutoff)),
      ]))
      .where('ciphertext', '!=', DESTROYED)
      .execute();
    for (const v of expired) {
      // A retired device's still-active key is retired as it is destroyed: nothing may try to open it.
      const state = v.state === 'retired' || v.state === 'rejected' ? {} : { state: 'retired' };
      await trx.updateTable('key_versions').set({ ciphertext: DESTROYED, wrapped_key: DESTROYED, ...state }).where('id', '=', v.id).execute();
      await appendAudit(trx, deps, at, { actorId: null, actorKind: 'system', action: 'key.destroyed', deviceId: v.device_id, volumeId: v.volume_id, detail: { version: v.version, retentionDays } });
    }
    return expired.length;
  });
}
