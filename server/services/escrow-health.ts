/**
 * Whether a volume's escrowed key still works, as its device last reported: the problem the
 * agent found (slot removed or changed, key rejected by the full check) or none, and when the
 * key was last proved to open the volume. A change of state is an audit event, so the log
 * shows when an escrow broke and when it was repaired.
 */
import type { EscrowProblem } from '../../lib/api/contract.ts';
import { appendAudit, type AuditDeps } from '../audit.ts';
import type { VolumeTable } from '../db/schema.ts';
import type { Trx } from './key-versions.ts';

/** Records the reported problem (or none); returns whether the volume's state changed. */
export async function recordEscrowProblem(
  trx: Trx, deps: AuditDeps, deviceId: string, volume: Pick<VolumeTable, 'id' | 'escrow_problem'>, problem: EscrowProblem | null, at: string,
): Promise<boolean> {
  await trx.updateTable('volumes').set({ escrow_problem: problem, escrow_checked_at: at }).where('id', '=', volume.id).execute();
  if (volume.escrow_problem === problem) return false;
  await appendAudit(trx, deps, at, {
    actorId: deviceId, actorKind: 'agent', action: problem === null ? 'key.escrow_restored' : 'key.escrow_broken', deviceId, volumeId: volume.id,
    detail: problem === null ? { was: volume.escrow_problem } : { problem },
  });
  return true;
}

/** The device proved the volume's active key opens it (a finished rotation, an upload from the disk, a full check). */
export async function markEscrowProved(trx: Trx, deps: AuditDeps, deviceId: string, volumeId: string, at: string): Promise<void> {
  const volume = await trx.selectFrom('volumes').select(['id', 'escrow_problem']).where('id', '=', volumeId).executeTakeFirstOrThrow();
  await recordEscrowProblem(trx, deps, deviceId, volume, null, at);
  await trx.updateTable('volumes').set({ key_verified_at: at }).where('id', '=', volumeId).execute();
}
