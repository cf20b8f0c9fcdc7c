/**
 * Retiring a device and bringing it back. Retire (IT): the agent's credential stops working at
 * once, open operations fail with `device_retired` (their candidate and pending keys are
 * rejected), and the escrowed keys stay viewable under the usual rules for the retention period,
 * then are destroyed (retention.ts), each step audited. Re-enroll (IT): a one-time token bound to the retired device; enrolling
 * with it brings the same device back with a new credential (agent-enroll.ts).
 */
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import { isIt, type UserActor } from './access.ts';
import { createEnrollmentToken } from './agent-enroll.ts';
import { failOperationsOfRetiredDevice, rejectUnconfirmedOfDevice } from './key-lifecycle.ts';

export const REENROLL_TOKEN_DAYS = 7;

export async function retireDevice(deps: AppDeps, user: UserActor, deviceId: string, meta: { ip: string | null }): Promise<void> {
  if (!isIt(user)) throw new ApiFailure(403, 'forbidden');
  const at = nowIso(deps);
  await deps.db.transaction().execute(async (trx) => {
    const device = await trx.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new ApiFailure(404, 'not_found');
    // Retiring twice changes nothing (a repeated form post).
    const retired = await trx
      .updateTable('devices')
      .set({ retired_at: at, updated_at: at, change_seq: null })
      .where('id', '=', device.id)
      .where('retired_at', 'is', null)
      .executeTakeFirst();
    if (Number(retired.numUpdatedRows) !== 1) return;
    await rejectUnconfirmedOfDevice(trx, device.id, at);
    await failOperationsOfRetiredDevice(trx, device.id, at);
    await appendAudit(trx, deps, at, {
      actorId: user.id, actorKind: 'user', action: 'device.retired', deviceId: device.id,
      detail: { retentionDays: deps.config.retiredRetentionDays }, ip: meta.ip,
    });
  });
}

/** A one-time token that re-enrolls this retired device (shown once). */
export async function createReenrollToken(deps: AppDeps, user: UserActor, deviceId: string, meta: { ip: string | null }): Promise<string> {
  if (!isIt(user)) throw new ApiFailure(403, 'forbidden');
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const device = await trx.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new ApiFailure(404, 'not_found');
    if (!device.retired_at) throw new ApiFailure(409, 'conflict');
    const ownership = device.ownership === 'personal' ? 'personal' : 'corporate';
    const token = await createEnrollmentToken({ db: trx, clock: deps.clock }, { ownerId: device.owner_id, ownership, label: `re-enroll ${device.name}`, validDays: REENROLL_TOKEN_DAYS, deviceId: device.id });
    await appendAudit(trx, deps, at, { actorId: user.id, actorKind: 'user', action: 'enrollment_token.reenroll', deviceId: device.id, detail: { validDays: REENROLL_TOKEN_DAYS }, ip: meta.ip });
    return token;
  });
}
