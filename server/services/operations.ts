/**
 * The operation queue: work for a device's agent (verify-and-rotate, rotate, upload).
 * Queued here; claimed by the agent at check-in; finished by the agent's report.
 */
import { randomUUID } from 'node:crypto';
import type { OperationKind } from '../../lib/api/contract.ts';
import type { OperationTable } from '../db/schema.ts';
import type { Trx } from './key-versions.ts';

export type NewOperation = {
  deviceId: string;
  volumeId: string;
  kind: OperationKind;
  requestedBy: string;
  candidateVersionId?: string | null;
  at: string;
  state?: 'queued' | 'failed';
  failureCause?: string | null;
};

export async function queueOperation(trx: Trx, op: NewOperation): Promise<OperationTable> {
  const row: OperationTable = {
    id: randomUUID(),
    device_id: op.deviceId,
    volume_id: op.volumeId,
    kind: op.kind,
    state: op.state ?? 'queued',
    failure_cause: op.failureCause ?? null,
    candidate_version_id: op.candidateVersionId ?? null,
    pending_version_id: null,
    requested_by: op.requestedBy,
    detail: null,
    claimed_at: null,
    created_at: op.at,
    updated_at: op.at,
  };
  await trx.insertInto('operations').values(row).execute();
  return row;
}

/** An operation of this kind already waiting for the volume, if any (so requests coalesce). */
export async function findOpenOperation(trx: Trx, volumeId: string, kind: OperationKind): Promise<OperationTable | undefined> {
  return trx
    .selectFrom('operations')
    .selectAll()
    .where('volume_id', '=', volumeId)
    .where('kind', '=', kind)
    .where('state', 'in', ['queued', 'in_progress'])
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Queues a rotation unless one is already waiting for the volume. */
export async function queueRotation(trx: Trx, deviceId: string, volumeId: string, requestedBy: string, at: string): Promise<OperationTable> {
  return (await findOpenOperation(trx, volumeId, 'rotate')) ?? queueOperation(trx, { deviceId, volumeId, kind: 'rotate', requestedBy, at });
}
