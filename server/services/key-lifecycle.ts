/**
 * Every change of a key version's or an operation's state, one function per transition, each
 * an update guarded by the state it starts from, inside the caller's transaction (which holds
 * the volume's lock where the caller needs one). A transition whose row is not in a state it
 * starts from changes nothing; the function says whether (or how many) rows moved, and the
 * caller decides what that means. No other module writes these state columns.
 *
 * Key versions                     from → to
 *   addCandidate                   (new) → candidate        a person's typed key (store)
 *   addPending                     (new) → pending          the agent's new key, before the disk
 *   addUploaded                    (new) → active           a key read from the disk (upload)
 *   activateVersion                pending → active         the rotation is confirmed; an upload's
 *                                  active → active           active key just gets its protector id
 *     … retiring, on its volume    candidate, pending → retired; active → retired (the key it replaces)
 *   rejectCandidate                candidate → rejected     a newer typed key superseded it
 *   rejectUnconfirmed              candidate, pending → rejected  the operation failed
 *   rejectUnconfirmedOfDevice      candidate, pending → rejected  the device was retired
 *   retireActive                   active → retired         the disk holds another key for the protector
 *   retireProtectorsGone           active → retired         the protector is no longer on the disk
 *   destroyKeyVersion              candidate, pending, active → retired  (key material erased in every state)
 *   retired, rejected: final.
 *
 * Operations
 *   queueOperation                 (new) → queued
 *   recordRefusedOperation         (new) → failed           escrow turned off
 *   claimOperation                 queued → in_progress     handed to the agent
 *   handOutAgain                   in_progress → in_progress  the agent dropped it, or its lease ran out
 *   supersedeOperation             queued → failed          detail `superseded`
 *   succeedOperation               queued, in_progress → succeeded
 *   failOperation                  queued, in_progress → failed (cause, device's detail)
 *   succeedUploads                 in_progress → succeeded  the volume's `upload` tasks, by an upload
 *   failOperationsOfRetiredDevice  queued, in_progress → failed (device_retired)
 *   succeeded, failed: final.
 *
 * Bulk actions: running → done (finishBulkAction).
 */
import { newId } from '../db/ids.ts';
import type { Updateable } from 'kysely';
import type { KeyVersionTable, OperationTable } from '../db/schema.ts';
import { isFinishedKeyVersion, OPEN_OPERATION_STATES, UNCONFIRMED_KEY_VERSION_STATES, type FailureCause, type KeyVersionState, type OperationKind, type OperationState } from '../db/states.ts';
import { DESTROYED, insertKeyVersion, type NewKeyVersion, type Trx } from './key-versions.ts';

/** Where each key-version state may go (the functions below; a state maps to itself only where one allows it). */
export const KEY_VERSION_TRANSITIONS: Readonly<Record<KeyVersionState, readonly KeyVersionState[]>> = {
  candidate: ['retired', 'rejected'],
  pending: ['active', 'retired', 'rejected'],
  active: ['active', 'retired'],
  retired: [],
  rejected: [],
};

/** Where each operation state may go. */
export const OPERATION_TRANSITIONS: Readonly<Record<OperationState, readonly OperationState[]>> = {
  queued: ['in_progress', 'succeeded', 'failed'],
  in_progress: ['in_progress', 'succeeded', 'failed'],
  succeeded: [],
  failed: [],
};

function moved(result: { numUpdatedRows: bigint }): number {
  return Number(result.numUpdatedRows);
}

type KeyVersionChange = Updateable<KeyVersionTable> & { state: KeyVersionState; updated_at: string };
type OperationChange = Updateable<OperationTable> & { state: OperationState; updated_at: string };

/** The listed key versions that are in one of `from` get `change`; returns how many. */
async function moveKeyVersions(trx: Trx, versionIds: readonly string[], from: readonly KeyVersionState[], change: KeyVersionChange): Promise<number> {
  if (versionIds.length === 0) return 0;
  return moved(await trx.updateTable('key_versions').set(change).where('id', 'in', [...versionIds]).where('state', 'in', [...from]).executeTakeFirst());
}

/** The operation gets `change` if it is in one of `from`; true when it did. */
async function moveOperation(trx: Trx, operationId: string, from: readonly OperationState[], change: OperationChange): Promise<boolean> {
  return moved(await trx.updateTable('operations').set(change).where('id', '=', operationId).where('state', 'in', [...from]).executeTakeFirst()) === 1;
}

// --- Key versions -----------------------------------------------------------------------

type KeyVersionDeps = Parameters<typeof insertKeyVersion>[1];
type KeyVersionInput = Omit<NewKeyVersion, 'state' | 'source'>;

/** A key a person typed, kept until the device has checked it against the disk. */
export function addCandidate(trx: Trx, deps: KeyVersionDeps, v: KeyVersionInput): Promise<{ id: string; version: number }> {
  return insertKeyVersion(trx, deps, { ...v, state: 'candidate', source: 'user' });
}

/** The agent's new key, escrowed before it touches the disk. */
export function addPending(trx: Trx, deps: KeyVersionDeps, v: KeyVersionInput): Promise<{ id: string; version: number }> {
  return insertKeyVersion(trx, deps, { ...v, state: 'pending', source: 'agent' });
}

/** A key the agent read from the disk: it opens the volume now. */
export function addUploaded(trx: Trx, deps: KeyVersionDeps, v: KeyVersionInput): Promise<{ id: string; version: number }> {
  return insertKeyVersion(trx, deps, { ...v, state: 'active', source: 'upload' });
}

export type Activation = {
  volumeId: string;
  versionId: string;
  /** The protector the version belongs to (BitLocker), or null. */
  protectorId: string | null;
  /** The active key a `rotate` carried to the disk, which the new one replaces. */
  rotatedId: string | null;
};

/**
 * The version becomes the volume's active key, and in the same step retires what it replaces:
 * the volume's other candidate and pending keys, and the active keys of no protector, of the
 * same protector, or the one the rotation carried. A BitLocker volume's other Numerical
 * Passwords stay active (they are still on the disk). False when the version is neither
 * pending nor active (then nothing changed).
 */
export async function activateVersion(trx: Trx, a: Activation, at: string): Promise<boolean> {
  const activated = await moveKeyVersions(trx, [a.versionId], ['pending', 'active'], { state: 'active', protector_id: a.protectorId, updated_at: at });
  if (activated !== 1) return false;
  await trx
    .updateTable('key_versions')
    .set({ state: 'retired', updated_at: at })
    .where('volume_id', '=', a.volumeId)
    .where('id', '!=', a.versionId)
    .where((eb) => eb.or([
      eb('state', 'in', UNCONFIRMED_KEY_VERSION_STATES),
      eb.and([
        eb('state', '=', 'active'),
        eb.or([eb('protector_id', 'is', null), eb('id', '=', a.rotatedId ?? ''), ...(a.protectorId ? [eb('protector_id', '=', a.protectorId)] : [])]),
      ]),
    ]))
    .execute();
  return true;
}

/** A typed key superseded by a newer one before the device took it. */
export async function rejectCandidate(trx: Trx, versionId: string, at: string): Promise<boolean> {
  return (await moveKeyVersions(trx, [versionId], ['candidate'], { state: 'rejected', updated_at: at })) === 1;
}

/** The keys a failed operation carried (its candidate and pending key), where still unconfirmed. */
export function rejectUnconfirmed(trx: Trx, versionIds: readonly string[], at: string): Promise<number> {
  return moveKeyVersions(trx, versionIds, UNCONFIRMED_KEY_VERSION_STATES, { state: 'rejected', updated_at: at });
}

/** Every unconfirmed key of a device that is being retired. */
export async function rejectUnconfirmedOfDevice(trx: Trx, deviceId: string, at: string): Promise<number> {
  const result = await trx
    .updateTable('key_versions')
    .set({ state: 'rejected', updated_at: at })
    .where('device_id', '=', deviceId)
    .where('state', 'in', UNCONFIRMED_KEY_VERSION_STATES)
    .executeTakeFirst();
  return moved(result);
}

/** Active keys replaced by another key the disk holds for the same protector. */
export function retireActive(trx: Trx, versionIds: readonly string[], at: string): Promise<number> {
  return moveKeyVersions(trx, versionIds, ['active'], { state: 'retired', updated_at: at });
}

/** A volume's active keys of protectors the device no longer lists (normalized ids, at least one). */
export async function retireProtectorsGone(trx: Trx, volumeId: string, listedProtectorIds: readonly string[], at: string): Promise<number> {
  const result = await trx
    .updateTable('key_versions')
    .set({ state: 'retired', updated_at: at })
    .where('volume_id', '=', volumeId)
    .where('state', '=', 'active')
    .where('protector_id', 'is not', null)
    .where('protector_id', 'not in', [...listedProtectorIds])
    .executeTakeFirst();
  return moved(result);
}

/**
 * Erases a version's key material at the end of its retention. A key still active (its device
 * was retired) is retired with it: nothing may try to open it. `state` is the one just read.
 */
export async function destroyKeyVersion(trx: Trx, version: { id: string; state: KeyVersionState }): Promise<void> {
  const retire = isFinishedKeyVersion(version.state) ? {} : { state: 'retired' as const };
  await trx.updateTable('key_versions').set({ ciphertext: DESTROYED, wrapped_key: DESTROYED, ...retire }).where('id', '=', version.id).execute();
}

// --- Operations -------------------------------------------------------------------------

export type NewOperation = {
  deviceId: string;
  volumeId: string;
  kind: OperationKind;
  requestedBy: string;
  candidateVersionId?: string | null;
  at: string;
};

function operationRow(op: NewOperation, state: 'queued' | 'failed', failureCause: FailureCause | null): OperationTable {
  return {
    id: newId(),
    device_id: op.deviceId,
    volume_id: op.volumeId,
    kind: op.kind,
    state,
    failure_cause: failureCause,
    candidate_version_id: op.candidateVersionId ?? null,
    pending_version_id: null,
    requested_by: op.requestedBy,
    detail: null,
    claimed_at: null,
    created_at: op.at,
    updated_at: op.at,
  };
}

/** Work for the device's agent, waiting for its next check-in. */
export async function queueOperation(trx: Trx, op: NewOperation): Promise<OperationTable> {
  const row = operationRow(op, 'queued', null);
  await trx.insertInto('operations').values(row).execute();
  return row;
}

/** A request refused before it became work (the device page shows why), recorded as failed. */
export async function recordRefusedOperation(trx: Trx, op: NewOperation, cause: FailureCause): Promise<OperationTable> {
  const row = operationRow(op, 'failed', cause);
  await trx.insertInto('operations').values(row).execute();
  return row;
}

/** Hands a queued operation to the agent. False when it is no longer queued. */
export function claimOperation(trx: Trx, operationId: string, at: string): Promise<boolean> {
  return moveOperation(trx, operationId, ['queued'], { state: 'in_progress', claimed_at: at, updated_at: at });
}

/** Hands an operation the agent took earlier and did not finish to it again (a new lease). */
export function handOutAgain(trx: Trx, operationId: string, at: string): Promise<boolean> {
  return moveOperation(trx, operationId, ['in_progress'], { state: 'in_progress', claimed_at: at, updated_at: at });
}

/** A queued request replaced by a newer one. False when the agent already has it (then it runs). */
export function supersedeOperation(trx: Trx, operationId: string, at: string): Promise<boolean> {
  return moveOperation(trx, operationId, ['queued'], { state: 'failed', detail: 'superseded', updated_at: at });
}

/** The agent reported the operation done. */
export function succeedOperation(trx: Trx, operationId: string, at: string): Promise<boolean> {
  return moveOperation(trx, operationId, OPEN_OPERATION_STATES, { state: 'succeeded', failure_cause: null, updated_at: at });
}

/** The operation failed for `cause`; `detail` is what the device said (shown for device errors). */
export function failOperation(trx: Trx, operationId: string, cause: FailureCause, detail: string | null, at: string): Promise<boolean> {
  return moveOperation(trx, operationId, OPEN_OPERATION_STATES, { state: 'failed', failure_cause: cause, detail, updated_at: at });
}

/** The volume's `upload` tasks the agent holds, finished by the upload itself. */
export async function succeedUploads(trx: Trx, volumeId: string, at: string): Promise<number> {
  const result = await trx
    .updateTable('operations')
    .set({ state: 'succeeded', failure_cause: null, updated_at: at })
    .where('volume_id', '=', volumeId)
    .where('kind', '=', 'upload')
    .where('state', '=', 'in_progress')
    .executeTakeFirst();
  return moved(result);
}

/** Every open operation of a device that is being retired. */
export async function failOperationsOfRetiredDevice(trx: Trx, deviceId: string, at: string): Promise<number> {
  const result = await trx
    .updateTable('operations')
    .set({ state: 'failed', failure_cause: 'device_retired', updated_at: at })
    .where('device_id', '=', deviceId)
    .where('state', 'in', OPEN_OPERATION_STATES)
    .executeTakeFirst();
  return moved(result);
}

// --- Bulk actions -----------------------------------------------------------------------

/** A running bulk action that has handled every device. */
export async function finishBulkAction(trx: Trx, bulkActionId: string, at: string): Promise<boolean> {
  const result = await trx.updateTable('bulk_actions').set({ state: 'done', updated_at: at }).where('id', '=', bulkActionId).where('state', '=', 'running').executeTakeFirst();
  return moved(result) === 1;
}
