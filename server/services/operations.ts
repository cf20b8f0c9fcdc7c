/**
 * The operation queue: work for a device's agent (verify-and-rotate, rotate, upload).
 * Queued here; claimed by the agent at check-in; finished by the agent's report. The state
 * changes themselves: key-lifecycle.ts.
 */
import type { OperationKind } from '../../lib/api/contract.ts';
import type { OperationTable } from '../db/schema.ts';
import { OPEN_OPERATION_STATES } from '../db/states.ts';
import { queueOperation } from './key-lifecycle.ts';
import type { Trx } from './key-versions.ts';

/** An operation of this kind already waiting for the volume, if any (so requests coalesce). */
export async function findOpenOperation(trx: Trx, volumeId: string, kind: OperationKind): Promise<OperationTable | undefined> {
  return trx
    .selectFrom('operations')
    .selectAll()
    .where('volume_id', '=', volumeId)
    .where('kind', '=', kind)
    .where('state', 'in', OPEN_OPERATION_STATES)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Queues a rotation unless one is already waiting for the volume. */
export async function queueRotation(trx: Trx, deviceId: string, volumeId: string, requestedBy: string, at: string): Promise<OperationTable> {
  return (await findOpenOperation(trx, volumeId, 'rotate')) ?? queueOperation(trx, { deviceId, volumeId, kind: 'rotate', requestedBy, at });
}
