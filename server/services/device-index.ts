/**
 * The device index: after a device's view changes (its row's `change_seq` set to NULL in the
 * writer's transaction), one step numbers the changed devices from a monotonic counter and
 * stores what the IT console filters and searches on (statuses, search text, serial number).
 * Steps run one at a time (an advisory lock on PostgreSQL, the write lock on SQLite) and see
 * only committed data, so a number is never handed out below one a reader has already seen:
 * `change_seq` is a delta-sync cursor that holds across instances and clock steps. Writers
 * mark a device with `touchDevice` (key-versions.ts). Each step locks the rows it numbers; a
 * writer still changing such a device waits for the step and marks the device changed again.
 */
import { sql } from 'kysely';
import type { AppDeps } from '../deps.ts';
import { getOrg, indexedStates } from './device-views.ts';

/** Devices numbered per transaction. */
const STEP = 500;
/** The advisory lock of the numbering step (PostgreSQL). */
const INDEX_LOCK = 7_455_013;

/** Numbers and indexes every changed device committed so far. Returns how many were indexed. */
export async function refreshDeviceIndex(deps: Pick<AppDeps, 'db' | 'dbKind'>): Promise<number> {
  let total = 0;
  for (;;) {
    // A cheap look first: most calls find nothing to do and take no lock.
    const dirty = await deps.db.selectFrom('devices').select('id').where('change_seq', 'is', null).limit(1).executeTakeFirst();
    if (!dirty) return total;
    const done = await deps.db.transaction().execute(async (trx) => {
      if (deps.dbKind === 'postgres') await sql`select pg_advisory_xact_lock(${INDEX_LOCK})`.execute(trx);
      let q = trx.selectFrom('devices').selectAll().where('change_seq', 'is', null).orderBy('id').limit(STEP);
      if (deps.dbKind === 'postgres') q = q.forUpdate();
      const devices = await q.execute();
      if (devices.length === 0) return 0;
      const counter = await trx.selectFrom('device_change_counter').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
      let seq = counter.seq;
      await trx.updateTable('device_change_counter').set({ seq: seq + devices.length }).where('id', '=', 1).execute();
      const org = await getOrg(trx);
      const states = await indexedStates(trx, org, devices);
      const owners = await trx.selectFrom('users').select(['id', 'email']).where('id', 'in', [...new Set(devices.map((d) => d.owner_id))]).execute();
      const emails = new Map(owners.map((o) => [o.id, o.email]));
      for (const [i, d] of devices.entries()) {
        const s = states[i];
        seq += 1;
        await trx
          .updateTable('devices')
          .set({
            change_seq: seq,
            key_status: s.keyStatus,
            key_status_stale: s.keyStatusStale,
            escrow_missing: s.escrowMissing ? 1 : 0,
            search_text: `${d.name}\n${s.ownerName}\n${emails.get(d.owner_id) ?? ''}`.toLowerCase(),
            serial_search: d.serial_number?.toLowerCase() ?? null,
          })
          .where('id', '=', d.id)
          .execute();
      }
      return devices.length;
    });
    total += done;
  }
}

/** The cursor of a delta sync at this moment: the highest number handed out (and committed). */
export async function currentChangeSeq(deps: Pick<AppDeps, 'db'>): Promise<number> {
  return (await deps.db.selectFrom('device_change_counter').select('seq').where('id', '=', 1).executeTakeFirstOrThrow()).seq;
}
