/**
 * What an agent reports back: a new key escrowed as `pending` before it touches the disk,
 * the outcome of an operation (ok → pending becomes active and every older key and the
 * candidate are retired, in one transaction, and a BitLocker protector id known only after
 * the add is recorded on it; wrong key → candidate rejected, M3; error → the cause the device
 * reported, shown in words), and keys already on the disk (BitLocker protectors). An active
 * key the device just put on the disk, or read from it, is proved to work. An agent acts only
 * on its own device.
 */
import type { z } from 'zod';
import type { CompleteOperationRequest, EscrowPendingRequest, KeyKind, Locale, UploadProtectorsRequest } from '../../lib/api/contract.ts';
import { describeKeyError, parseProtectorId, parseRecoveryKey } from '../../lib/keys/index.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import type { DeviceTable, OperationTable } from '../db/schema.ts';
import { deviceKeyKind, type OperationState } from '../db/states.ts';
import { activateVersion, addPending, addUploaded, failOperation, rejectUnconfirmed, retireActive, succeedOperation, succeedUploads } from './key-lifecycle.ts';
import { lockVolume, newestActiveVersion, openKeyVersion, touchDevice, type Trx } from './key-versions.ts';
import { markEscrowProved } from './escrow-health.ts';
import { ownVolumeByRef } from './volumes.ts';

function normalizeAgentKey(kind: KeyKind, key: string, locale: Locale): string {
  const parsed = parseRecoveryKey(kind, key);
  if (!parsed.ok) throw new ApiFailure(400, 'invalid_key', { field: 'key', detail: describeKeyError(locale, kind, parsed.error) });
  return parsed.normalized;
}

function normalizeProtector(kind: string, id: string | undefined): string | null {
  if (kind !== 'bitlocker' || !id) return null;
  const parsed = parseProtectorId(id);
  if (!parsed) throw new ApiFailure(400, 'invalid_input', { field: 'protectorId' });
  return parsed;
}

async function findOwnOperation(trx: Trx, device: DeviceTable, operationId: string): Promise<OperationTable> {
  const op = await trx.selectFrom('operations').selectAll().where('id', '=', operationId).where('device_id', '=', device.id).executeTakeFirst();
  if (!op) throw new ApiFailure(404, 'not_found');
  return op;
}

/** The agent's own operation, read again under its volume's lock (a racing report may just have finished it). */
async function ownOperation(trx: Trx, deps: Pick<AppDeps, 'dbKind'>, device: DeviceTable, operationId: string): Promise<OperationTable> {
  const op = await findOwnOperation(trx, device, operationId);
  await lockVolume(trx, deps, op.volume_id);
  return findOwnOperation(trx, device, operationId);
}

export async function escrowPendingKey(
  deps: AppDeps, device: DeviceTable, operationId: string, req: z.infer<typeof EscrowPendingRequest>, locale: Locale,
): Promise<{ keyVersionId: string }> {
  const kind = deviceKeyKind(device);
  const normalized = normalizeAgentKey(kind, req.key, locale);
  const protectorId = normalizeProtector(kind, req.protectorId);
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const op = await ownOperation(trx, deps, device, operationId);
    if (op.state !== 'in_progress' && op.state !== 'queued') throw new ApiFailure(409, 'conflict');
    const version = await addPending(trx, deps, { deviceId: device.id, volumeId: op.volume_id, kind, protectorId, secret: normalized, at });
    await trx.updateTable('operations').set({ pending_version_id: version.id, updated_at: at }).where('id', '=', op.id).execute();
    await appendAudit(trx, deps, at, {
      actorId: device.id, actorKind: 'agent', action: 'key.escrowed_pending', deviceId: device.id, volumeId: op.volume_id, detail: { version: version.version, operationId: op.id },
    });
    await touchDevice(trx, device.id, at);
    return { keyVersionId: version.id };
  });
}

type Completion = z.infer<typeof CompleteOperationRequest>;

export async function completeOperation(deps: AppDeps, device: DeviceTable, operationId: string, req: Completion): Promise<{ state: OperationState }> {
  // BitLocker: the new protector's id exists only once the password is on the disk, so it may come now.
  const reportedProtectorId = normalizeProtector(device.key_kind, req.result === 'ok' ? req.protectorId : undefined);
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const op = await ownOperation(trx, deps, device, operationId);
    if (op.state === 'succeeded' || op.state === 'failed') {
      const same = (op.state === 'succeeded') === (req.result === 'ok');
      if (same) return { state: op.state };
      throw new ApiFailure(409, 'conflict');
    }
    if (req.result === 'ok') {
      const version = await trx
        .selectFrom('key_versions')
        .selectAll()
        .where('id', '=', req.keyVersionId)
        .where('volume_id', '=', op.volume_id)
        .where('device_id', '=', device.id)
        .executeTakeFirst();
      const acceptable = version && (version.state === 'pending' || (op.kind === 'upload' && version.state === 'active'));
      if (!acceptable) throw new ApiFailure(409, 'conflict', { field: 'keyVersionId' });
      const protectorId = version.protector_id ?? reportedProtectorId;
      // Retired: the candidate, other pending keys, and the old key. A BitLocker volume's other
      // Numerical Passwords stay on the disk through the rotation, so they stay escrowed until a
      // check-in no longer lists them; only the rotated one (the key the task carried) goes now.
      const rotated = op.kind === 'rotate' ? await newestActiveVersion(trx, op.volume_id) : undefined;
      const activation = { volumeId: op.volume_id, versionId: version.id, protectorId, rotatedId: rotated?.id ?? null };
      if (!(await activateVersion(trx, activation, at))) throw new ApiFailure(409, 'conflict', { field: 'keyVersionId' });
      await succeedOperation(trx, op.id, at);
      await markEscrowProved(trx, deps, device.id, op.volume_id, at);
      await appendAudit(trx, deps, at, {
        actorId: device.id, actorKind: 'agent', action: 'key.rotated', deviceId: device.id, volumeId: op.volume_id, detail: { version: version.version, operationId: op.id, kind: op.kind, protectorId },
      });
    } else {
      const cause = req.result === 'wrong_key' ? 'wrong_key' : (req.cause ?? 'device_error');
      await rejectUnconfirmed(trx, [op.candidate_version_id, op.pending_version_id].filter((id): id is string => id !== null), at);
      await failOperation(trx, op.id, cause, req.result === 'error' ? req.detail : null, at);
      await appendAudit(trx, deps, at, {
        actorId: device.id, actorKind: 'agent', action: 'operation.failed', deviceId: device.id, volumeId: op.volume_id, detail: { operationId: op.id, cause, kind: op.kind },
      });
    }
    await touchDevice(trx, device.id, at);
    const done = await trx.selectFrom('operations').select('state').where('id', '=', op.id).executeTakeFirstOrThrow();
    return { state: done.state };
  });
}

export async function uploadProtectors(
  deps: AppDeps, device: DeviceTable, req: z.infer<typeof UploadProtectorsRequest>, locale: Locale,
): Promise<{ stored: number }> {
  const kind = deviceKeyKind(device);
  const items = req.protectors.map((p) => ({ protectorId: normalizeProtector(kind, p.protectorId), key: normalizeAgentKey(kind, p.key, locale) }));
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const volume = await ownVolumeByRef(trx, device.id, req.volumeRef);
    await lockVolume(trx, deps, volume.id);
    const active = await trx.selectFrom('key_versions').selectAll().where('volume_id', '=', volume.id).where('state', '=', 'active').execute();
    let stored = 0;
    const listed = new Set<string | null>();
    for (const item of items) {
      // A protector listed twice counts once, its first entry (as volumes at check-in).
      if (listed.has(item.protectorId)) continue;
      listed.add(item.protectorId);
      const same = active.filter((a) => a.protector_id === item.protectorId);
      if (same.some((a) => openKeyVersion(deps, a, kind) === item.key)) continue;
      await retireActive(trx, same.map((a) => a.id), at);
      const version = await addUploaded(trx, deps, { deviceId: device.id, volumeId: volume.id, kind, protectorId: item.protectorId, secret: item.key, at });
      stored += 1;
      await appendAudit(trx, deps, at, {
        actorId: device.id, actorKind: 'agent', action: 'key.uploaded', deviceId: device.id, volumeId: volume.id, detail: { version: version.version, protectorId: item.protectorId },
      });
    }
    // An `upload` task is finished by the upload itself.
    const uploadsDone = await succeedUploads(trx, volume.id, at);
    // Keys read from the disk open it: the escrow works again, whatever broke before.
    if (items.length > 0) await markEscrowProved(trx, deps, device.id, volume.id, at);
    if (stored > 0 || uploadsDone > 0) await touchDevice(trx, device.id, at);
    return { stored };
  });
}
