/**
 * An operation the agent starts itself: escrow a new key of its own for a volume, at
 * enrollment (a LUKS key slot next to the person's passphrase) or to repair an escrow that no
 * longer works. It is handed straight to the asking agent (in progress) and then runs like any
 * rotation: escrow as pending, add on the disk, verify, complete.
 */
import type { z } from 'zod';
import type { AgentTask, StartEscrowRequest } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import type { DeviceTable } from '../db/schema.ts';
import { escrowEnabledFor, orgFor } from './device-views.ts';
import { lockVolume, touchDevice } from './key-versions.ts';
import { claimOperation, queueOperation } from './key-lifecycle.ts';
import { taskFor } from './agent-checkin.ts';
import { ownVolumeByRef } from './volumes.ts';

export async function startAgentEscrow(deps: AppDeps, device: DeviceTable, req: z.infer<typeof StartEscrowRequest>): Promise<AgentTask> {
  const at = nowIso(deps);
  if (!escrowEnabledFor(device, await orgFor(deps, deps.db))) throw new ApiFailure(403, 'escrow_disabled');
  return deps.db.transaction().execute(async (trx) => {
    const volume = await ownVolumeByRef(trx, device.id, req.volumeRef);
    if (volume.encrypted !== 1) throw new ApiFailure(409, 'conflict', { field: 'volumeRef' });
    await lockVolume(trx, deps, volume.id);
    const op = await queueOperation(trx, { deviceId: device.id, volumeId: volume.id, kind: 'rotate', requestedBy: device.id, at });
    await claimOperation(trx, op.id, at);
    await appendAudit(trx, deps, at, {
      actorId: device.id, actorKind: 'agent', action: 'escrow.started', deviceId: device.id, volumeId: volume.id, detail: { operationId: op.id, purpose: req.purpose },
    });
    await touchDevice(trx, device.id, at);
    return taskFor(trx, deps, device, op.id, 'rotate', volume.id, null);
  });
}
