/**
 * The full check of an escrowed key: the agent fetches the volume's active key over its own
 * authenticated channel (an audited device verification; the key is never shown to a person),
 * tries it on the disk and reports whether it opens the volume. A key that no longer opens it
 * shows as "Escrowed key no longer works" at once.
 */
import type { z } from 'zod';
import type { VerificationResultRequest } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import type { DeviceTable } from '../db/schema.ts';
import { lockVolume, newestActiveVersion, openKeyVersion, touchDevice } from './key-versions.ts';
import { markEscrowProved, recordEscrowProblem } from './escrow-health.ts';
import { ownVolumeByRef } from './volumes.ts';

export async function verificationKey(deps: AppDeps, device: DeviceTable, volumeRef: string): Promise<{ keyVersionId: string; key: string }> {
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const volume = await ownVolumeByRef(trx, device.id, volumeRef);
    const active = await newestActiveVersion(trx, volume.id);
    if (!active) throw new ApiFailure(404, 'no_key', { field: 'volumeRef' });
    await appendAudit(trx, deps, at, {
      actorId: device.id, actorKind: 'agent', action: 'key.device_verification', deviceId: device.id, volumeId: volume.id, detail: { version: active.version },
    });
    return { keyVersionId: active.id, key: openKeyVersion(deps, active, device.key_kind) };
  });
}

export async function recordVerification(deps: AppDeps, device: DeviceTable, req: z.infer<typeof VerificationResultRequest>): Promise<{ state: 'ok' | 'broken' | 'stale' }> {
  const at = nowIso(deps);
  return deps.db.transaction().execute(async (trx) => {
    const volume = await ownVolumeByRef(trx, device.id, req.volumeRef);
    await lockVolume(trx, deps, volume.id);
    const active = await newestActiveVersion(trx, volume.id);
    // A result about a key that is no longer the active one (rotated meanwhile) says nothing now.
    if (!active || active.id !== req.keyVersionId) return { state: 'stale' as const };
    if (req.works) {
      await markEscrowProved(trx, deps, device.id, volume.id, at);
    } else {
      // Checked now, so not due again before the policy's interval: repeating cannot make it work.
      await trx.updateTable('volumes').set({ key_verified_at: at }).where('id', '=', volume.id).execute();
      // What the cheap check already found (slot removed or changed) says more than "rejected".
      await recordEscrowProblem(trx, deps, device.id, volume, volume.escrow_problem ?? 'key_rejected', at);
    }
    await touchDevice(trx, device.id, at);
    return { state: req.works ? ('ok' as const) : ('broken' as const) };
  });
}
