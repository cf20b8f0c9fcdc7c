/**
 * The console's bulk action for seed 004's remedy: rotate every device whose disk is
 * encrypted but has no key escrowed, which makes each agent upload a key. Each rotation is
 * queued (coalescing with one already waiting) and audited like a single IT request, in
 * batches of devices taken in id order, so progress is recorded as it goes and a run that
 * stops can carry on where it was. The request and the end of the run are audited too.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import type { BulkActionTable } from '../db/schema.ts';
import type { BulkActionKind } from '../db/states.ts';
import { ApiFailure } from '../errors.ts';
import { isIt, type UserActor } from './access.ts';
import { refreshDeviceIndex } from './device-index.ts';
import { finishBulkAction } from './key-lifecycle.ts';
import { lockVolume, touchDevice } from './key-versions.ts';
import { queueRotation } from './operations.ts';

export const ROTATE_ESCROW_MISSING: BulkActionKind = 'rotate-escrow-missing';
const BATCH = 200;

/** Records the request (audited) and returns the action; `runBulkRotation` does the work. */
export async function startBulkRotation(deps: AppDeps, actor: UserActor, ip: string | null): Promise<BulkActionTable> {
  if (!isIt(actor)) throw new ApiFailure(403, 'forbidden');
  await refreshDeviceIndex(deps);
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const total = await trx.selectFrom('devices').select((eb) => eb.fn.countAll<number | string>().as('n')).where('escrow_missing', '=', 1).executeTakeFirstOrThrow();
    const action: BulkActionTable = {
      id: randomUUID(), kind: ROTATE_ESCROW_MISSING, requested_by: actor.id, state: 'running', total: Number(total.n), done: 0, queued: 0, last_device_id: '', created_at: at, updated_at: at,
    };
    await trx.insertInto('bulk_actions').values(action).execute();
    await appendAudit(trx, deps, at, { actorId: actor.id, actorKind: 'user', action: 'devices.bulk_rotation_requested', detail: { bulkActionId: action.id, devices: action.total }, ip });
    return action;
  });
}

/** One batch: returns false once the action is finished. */
async function runBatch(deps: AppDeps, id: string): Promise<boolean> {
  await refreshDeviceIndex(deps);
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('bulk_actions').selectAll().where('id', '=', id);
    if (deps.dbKind === 'postgres') q = q.forUpdate();
    const action = await q.executeTakeFirst();
    if (!action || action.state !== 'running') return false;
    const devices = await trx
      .selectFrom('devices')
      .select('id')
      .where('escrow_missing', '=', 1)
      .where('id', '>', action.last_device_id)
      .orderBy('escrow_missing')
      .orderBy('id')
      .limit(BATCH)
      .execute();
    if (devices.length === 0) {
      await finishBulkAction(trx, id, at);
      await appendAudit(trx, deps, at, { actorId: action.requested_by, actorKind: 'user', action: 'devices.bulk_rotation_finished', detail: { bulkActionId: id, devices: action.done, rotationsQueued: action.queued } });
      return false;
    }
    const ids = devices.map((d) => d.id);
    // Encrypted volumes without an active key: the ones the agent must rotate (and upload).
    const volumes = await trx
      .selectFrom('volumes as v')
      .select(['v.id', 'v.device_id'])
      .where('v.device_id', 'in', ids)
      .where('v.encrypted', '=', 1)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('key_versions as k').select('k.id').whereRef('k.volume_id', '=', 'v.id').where('k.state', '=', 'active'))))
      .execute();
    for (const v of volumes) {
      await lockVolume(trx, deps, v.id);
      const op = await queueRotation(trx, v.device_id, v.id, action.requested_by, at);
      await appendAudit(trx, deps, at, {
        actorId: action.requested_by, actorKind: 'user', action: 'rotation.requested', deviceId: v.device_id, volumeId: v.id, detail: { operationId: op.id, bulkActionId: id },
      });
      await touchDevice(trx, v.device_id, at);
    }
    await trx
      .updateTable('bulk_actions')
      .set({ done: action.done + ids.length, queued: action.queued + volumes.length, last_device_id: ids[ids.length - 1], updated_at: at })
      .where('id', '=', id)
      .execute();
    return true;
  });
}

/** Works through the action to its end; a failure leaves it running, to be carried on. */
export async function runBulkRotation(deps: AppDeps, id: string): Promise<void> {
  while (await runBatch(deps, id));
}

export async function findBulkAction(deps: AppDeps, id: string): Promise<BulkActionTable | undefined> {
  return deps.db.selectFrom('bulk_actions').selectAll().where('id', '=', id).executeTakeFirst();
}
