/**
 * Reveal an escrowed key (DESIGN.md › Get a key): the access rules decide; the key is opened
 * and its audit event written in one transaction, so a reveal that cannot be audited is
 * refused. An IT reveal under `rotateAfterReveal` marks the key exposed and queues a rotation.
 *
 * An owner's own reveal marks nothing exposed and queues no rotation, by decision: the key
 * protects the owner's own disk, and showing it to them is the point of Get recovery key (the
 * seeds show it for five minutes and hide it, without rotating). Nobody new has learnt it, and
 * a rotation would replace the key the owner may be typing into a locked Mac right now. An IT
 * reveal puts the key in a second person's hands, which is what `rotateAfterReveal` is for.
 * Every reveal, the owner's too, is audited.
 */
import type { RevealedKey, RevealRequest } from '../../lib/api/contract.ts';
import { formatRecoveryKey, parseProtectorId } from '../../lib/keys/index.ts';
import { t } from '../../lib/i18n/index.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { deviceKeyKind } from '../db/states.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import { assertCanReveal, isOwner, type UserActor } from './access.ts';
import { lockVolume, newestActiveVersion, openKeyVersion, touchDevice, type Trx } from './key-versions.ts';
import { queueRotation } from './operations.ts';
import { checkAttempt, type RefusalLog } from './refusals.ts';
import type { RequestMeta } from './store-key.ts';
import type { VolumeTable } from '../db/schema.ts';
import { orgFor } from './device-views.ts';

export type RevealOutcome = { key: RevealedKey; rotationQueued: boolean };

async function volumeWithKey(trx: Trx, deviceId: string, volumeId: string | undefined): Promise<VolumeTable | undefined> {
  const volumes = await trx.selectFrom('volumes').selectAll().where('device_id', '=', deviceId).orderBy('name').execute();
  if (volumeId) {
    const found = volumes.find((v) => v.id === volumeId);
    if (!found) throw new ApiFailure(404, 'not_found', { field: 'volumeId' });
    return found;
  }
  // With one volume (or none) the answer is that volume whether it holds a key or not.
  if (volumes.length <= 1) return volumes[0];
  // By volume, so the (volume_id, state, version) index answers without reading the device's whole key history.
  const withKey = await trx
    .selectFrom('key_versions')
    .select('volume_id')
    .where('volume_id', 'in', volumes.map((v) => v.id))
    .where('state', '=', 'active')
    .execute();
  return volumes.find((v) => withKey.some((k) => k.volume_id === v.id)) ?? volumes[0];
}

/**
 * Everything happens in one transaction: the checks, opening the key, and its audit event.
 * A reveal the access rules refuse is audited by `refusals` once that transaction is undone.
 */
export async function revealRecoveryKey(deps: AppDeps, refusals: RefusalLog, user: UserActor, deviceId: string, req: RevealRequest, meta: RequestMeta): Promise<RevealOutcome> {
  const at = nowIso(deps);
  return refusals.auditing(() => deps.db.transaction().execute(async (trx) => {
    const device = await trx.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new ApiFailure(404, 'not_found');
    const facts = { ownerId: device.owner_id, ownership: device.ownership };
    const attempt = { action: 'reveal' as const, actor: user, deviceId: device.id, volumeId: req.volumeId, reason: req.reason, ip: meta.ip };
    checkAttempt(attempt, () => assertCanReveal(user, facts, req.reason));
    const org = await orgFor(deps, trx);
    // The owner of a personal device can fix this themselves (Store recovery key); anyone else needs IT.
    const selfService = device.ownership === 'personal' && isOwner(user, facts);
    const noKey = () => new ApiFailure(404, 'no_key', { detail: selfService ? t(meta.locale, 'flow.no_key_personal') : t(meta.locale, 'flow.no_key', { contact: org.support_contact }) });
    const volume = await volumeWithKey(trx, device.id, req.volumeId);
    if (!volume) throw noKey();
    // Volume before audit head, as every writer takes them: a rotation completing now cannot
    // deadlock with this reveal, and the reveal then shows the key the rotation left active.
    await lockVolume(trx, deps, volume.id);
    const byIt = !isOwner(user, facts);
    const protectorId = req.protectorId ? (parseProtectorId(req.protectorId) ?? req.protectorId) : undefined;
    const row = await newestActiveVersion(trx, volume.id, protectorId);
    if (!row) throw noKey();
    const kind = deviceKeyKind(device);
    const secret = openKeyVersion(deps, row, kind);
    await appendAudit(trx, deps, at, {
      actorId: user.id,
      actorKind: 'user',
      action: 'key.revealed',
      deviceId: device.id,
      volumeId: volume.id,
      detail: { version: row.version, role: user.role, byIt, reason: req.reason?.trim() ?? null, protectorId: row.protector_id },
      ip: meta.ip,
    });
    let rotationQueued = false;
    if (byIt && org.rotate_after_reveal === 1) {
      await trx.updateTable('key_versions').set({ exposed: 1, updated_at: at }).where('id', '=', row.id).execute();
      const op = await queueRotation(trx, device.id, volume.id, user.id, at);
      rotationQueued = true;
      await appendAudit(trx, deps, at, {
        actorId: user.id, actorKind: 'user', action: 'rotation.requested', deviceId: device.id, volumeId: volume.id, detail: { operationId: op.id, after: 'reveal' }, ip: meta.ip,
      });
      await touchDevice(trx, device.id, at);
    }
    return {
      rotationQueued,
      key: {
        deviceId: device.id,
        volumeId: volume.id,
        volumeName: volume.name,
        kind,
        version: row.version,
        key: formatRecoveryKey(kind, secret),
        protectorId: row.protector_id,
        revealedAt: at,
        hideAfterSeconds: deps.config.hideAfterSeconds,
      },
    };
  }));
}
