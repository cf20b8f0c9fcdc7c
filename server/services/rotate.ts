/**
 * Ask a device to rotate a volume's key, or to check in now ("Check access"). Owners and IT
 * may do both; the agent does the rotation with its own authority at its next check-in.
 */
import type { Operation } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import { assertCanRotate, type UserActor } from './access.ts';
import { findDevice, getOrg, hasNotCheckedIn, operationView } from './device-views.ts';
import { lockVolume, touchDevice } from './key-versions.ts';
import { queueRotation } from './operations.ts';
import { checkAttempt, type RefusalLog } from './refusals.ts';
import type { RequestMeta } from './store-key.ts';
import { pickVolume } from './volumes.ts';

/** A rotation the access rules refuse is audited by `refusals` (nothing is queued). */
export async function requestRotation(deps: AppDeps, refusals: RefusalLog, user: UserActor, deviceId: string, volumeId: string | undefined, meta: RequestMeta): Promise<Operation> {
  const device = await findDevice(deps.db, deviceId);
  if (!device) throw new ApiFailure(404, 'not_found');
  await refusals.auditing(async () => {
    checkAttempt({ action: 'rotate', actor: user, deviceId: device.id, volumeId, ip: meta.ip }, () => assertCanRotate(user, { ownerId: device.owner_id, ownership: device.ownership }));
  });
  if (device.retired_at) throw new ApiFailure(409, 'device_retired');
  const volume = await pickVolume(deps.db, device.id, volumeId);
  const at = nowIso(deps);
  const op = await deps.db.transaction().execute(async (trx) => {
    await lockVolume(trx, deps, volume.id);
    const queued = await queueRotation(trx, device.id, volume.id, user.id, at);
    await appendAudit(trx, deps, at, {
      actorId: user.id, actorKind: 'user', action: 'rotation.requested', deviceId: device.id, volumeId: volume.id, detail: { operationId: queued.id }, ip: meta.ip,
    });
    await touchDevice(trx, device.id, at);
    return queued;
  });
  const org = await getOrg(deps.db);
  return operationView(op, hasNotCheckedIn(device, org, deps.clock.now()));
}

export async function requestCheckAccess(deps: AppDeps, user: UserActor, deviceId: string): Promise<void> {
  const device = await findDevice(deps.db, deviceId);
  if (!device) throw new ApiFailure(404, 'not_found');
  assertCanRotate(user, { ownerId: device.owner_id, ownership: device.ownership });
  const at = nowIso(deps);
  await deps.db.updateTable('devices').set({ checkin_requested_at: at, updated_at: at, change_seq: null }).where('id', '=', device.id).execute();
}
