/**
 * One key rotation, as a journaled sequence of steps that each may be repeated after a crash:
 * escrow the new key as `pending` → add it on the disk → verify it on the disk → complete
 * the operation → only then remove the old escrowed key (DESIGN.md › escrow before commit).
 * Only the key named to retire is ever removed: the key that authorized the change stays when
 * it is the person's own (their LUKS passphrase). Where the platform generates the key itself
 * (FileVault) the add comes first and the journal holds the new key until the service has it.
 * When done, the protector now holding the escrowed key is recorded for the cheap check.
 * Keys never reach the log.
 */
import type { AgentTask, DeviceErrorCause, KeyKind } from '../lib/api/contract.ts';
import { AgentApiError, type AgentApi } from './api-client.ts';
import { DiskError, type DiskDriver } from './drivers/driver.ts';
import type { EscrowRecords } from './escrow-records.ts';
import { keyToRetire, type Journal, type RotationJournal } from './journal.ts';
import type { Log } from './log.ts';

/** A durable step of a rotation, reported after it is journaled. */
export type RotationStep = 'escrowed' | 'added' | 'verified' | 'completed' | 'removed';

/**
 * `finished`: the new key is active (the old one removed, or retried later); `failed`: reported
 * to the service as failed; `skipped`: the service refused the operation (e.g. cancelled), the
 * disk is as before; `unfinished`: kept in the journal, the next run continues it.
 */
export type RotationOutcome = 'finished' | 'failed' | 'skipped' | 'unfinished';

export type RotationDeps = {
  api: AgentApi;
  driver: DiskDriver;
  journal: Journal;
  records: EscrowRecords;
  log: Log;
  onStep: (step: RotationStep, operationId: string) => void;
  generateKey: (kind: KeyKind) => string;
};

export class Rotation {
  private readonly api: AgentApi;
  private readonly driver: DiskDriver;
  private readonly journal: Journal;
  private readonly records: EscrowRecords;
  private readonly log: Log;
  private readonly onStep: (step: RotationStep, operationId: string) => void;
  private readonly generateKey: (kind: KeyKind) => string;

  constructor(deps: RotationDeps) {
    this.api = deps.api;
    this.driver = deps.driver;
    this.journal = deps.journal;
    this.records = deps.records;
    this.log = deps.log;
    this.onStep = deps.onStep;
    this.generateKey = deps.generateKey;
  }

  /**
   * Journals a new rotation of the task's volume, authorized by `authorityKey`, and runs it.
   * `retireKey` (by default the authority) is the old escrowed key removed at the end; null
   * removes nothing.
   */
  async start(task: AgentTask, authorityKey: string, retireKey: string | null = authorityKey): Promise<RotationOutcome> {
    const oldProtectorId = this.driver.keyKind === 'bitlocker' && retireKey !== null
      ? ((await this.driver.readExistingKeys(task.volumeRef)).find((k) => k.key === retireKey)?.protectorId ?? null)
      : null;
    const entry: RotationJournal = {
      operationId: task.operationId,
      taskKind: task.kind,
      volumeRef: task.volumeRef,
      authorityKey,
      retireKey,
      oldProtectorId,
      newKey: this.driver.keySource === 'agent' ? this.generateKey(this.driver.keyKind) : null,
      newProtectorId: null,
      keyVersionId: null,
      added: false,
      verified: false,
      completed: false,
      updatedAt: '',
    };
    this.journal.save(entry);
    return this.continue(entry);
  }

  /** Runs the remaining steps of a journaled rotation; every step is safe to repeat. */
  async continue(entry: RotationJournal): Promise<RotationOutcome> {
    try {
      if (this.driver.keySource === 'agent') {
        if (entry.keyVersionId === null) {
          const escrowed = await this.escrow(entry);
          if (escrowed !== 'escrowed') return escrowed;
        }
        if (!entry.added) await this.addOnDisk(entry);
      } else {
        if (!entry.added) await this.addOnDisk(entry);
        if (entry.keyVersionId === null) {
          const escrowed = await this.escrow(entry);
          if (escrowed !== 'escrowed') return escrowed;
        }
      }
      if (!entry.verified) await this.verifyOnDisk(entry);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      return this.abandon(entry, error.message, error.reason);
    }
    if (!entry.completed && !(await this.completeOk(entry))) return 'skipped';
    await this.removeOldKey(entry);
    return 'finished';
  }

  /** Step 1 (before the disk changes, except where the platform generates the key). */
  private async escrow(entry: RotationJournal): Promise<'escrowed' | 'skipped' | 'unfinished'> {
    const newKey = requireNewKey(entry);
    try {
      const { keyVersionId } = await this.api.escrowPending(entry.operationId, {
        key: newKey,
        ...(entry.newProtectorId ? { protectorId: entry.newProtectorId } : {}),
      });
      entry.keyVersionId = keyVersionId;
    } catch (error) {
      if (!(error instanceof AgentApiError)) throw error;
      if (entry.added) {
        // The platform already replaced the key: the journal is its only copy; keep it and retry next run.
        this.log(`operation ${entry.operationId}: the service refused the new key (${error.code}); keeping it in the journal and retrying later`);
        return 'unfinished';
      }
      this.log(`operation ${entry.operationId}: the service refused to escrow the new key (${error.code}); the disk was not changed`);
      this.journal.remove(entry.operationId);
      return 'skipped';
    }
    this.journal.save(entry);
    this.log(`operation ${entry.operationId}: new key escrowed as pending`);
    this.onStep('escrowed', entry.operationId);
    return 'escrowed';
  }

  /** Step 2: put the new key on the disk (skipped if an earlier run already did). */
  private async addOnDisk(entry: RotationJournal): Promise<void> {
    const ref = entry.volumeRef;
    if (entry.newKey !== null && (await this.driver.verifyKey(ref, entry.newKey))) {
      entry.newProtectorId = entry.newProtectorId ?? (await this.protectorIdOf(ref, entry.newKey));
    } else {
      const added = await this.driver.addKey(ref, entry.authorityKey, entry.newKey);
      entry.newKey = added.key;
      entry.newProtectorId = added.protectorId;
    }
    entry.added = true;
    this.journal.save(entry);
    this.log(`operation ${entry.operationId}: new key added on ${ref}`);
    this.onStep('added', entry.operationId);
  }

  /** Step 3: the new key must unlock the volume before anything old is touched. */
  private async verifyOnDisk(entry: RotationJournal): Promise<void> {
    if (!(await this.driver.verifyKey(entry.volumeRef, requireNewKey(entry)))) {
      throw new DiskError('the new key does not unlock the volume after it was added');
    }
    entry.verified = true;
    this.journal.save(entry);
    this.log(`operation ${entry.operationId}: new key verified on ${entry.volumeRef}`);
    this.onStep('verified', entry.operationId);
  }

  /** Step 4: the service promotes the pending key to active and retires the old one. */
  private async completeOk(entry: RotationJournal): Promise<boolean> {
    try {
      await this.api.complete(entry.operationId, {
        result: 'ok',
        keyVersionId: entry.keyVersionId ?? '',
        ...(entry.newProtectorId && this.driver.keyKind === 'bitlocker' ? { protectorId: entry.newProtectorId } : {}),
      });
    } catch (error) {
      if (!(error instanceof AgentApiError)) throw error;
      // The service answers a repeated completion of a succeeded operation with success, so a
      // refusal means the operation failed or was cancelled: the new key is not active.
      this.log(`operation ${entry.operationId}: the service refused completion (${error.code}); undoing the rotation`);
      await this.rollBack(entry);
      return false;
    }
    entry.completed = true;
    this.journal.save(entry);
    this.log(`operation ${entry.operationId}: completed`);
    this.onStep('completed', entry.operationId);
    return true;
  }

  /** Step 5: only now does the old escrowed key leave the disk (never the person's own passphrase). */
  private async removeOldKey(entry: RotationJournal): Promise<void> {
    const newKey = requireNewKey(entry);
    const retire = keyToRetire(entry);
    try {
      if (retire !== null && retire !== newKey) {
        await this.driver.removeKey(entry.volumeRef, { key: retire, protectorId: entry.oldProtectorId }, newKey);
      }
      await this.recordEscrow(entry.volumeRef, newKey, entry.newProtectorId);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      this.log(`operation ${entry.operationId}: could not remove the old key (${error.message}); will retry`);
      return;
    }
    this.journal.remove(entry.operationId);
    this.log(`operation ${entry.operationId}: ${retire === null ? 'no old key to remove' : 'old key removed'} from ${entry.volumeRef}; rotation finished`);
    this.onStep('removed', entry.operationId);
  }

  /** Remembers which protector holds the escrowed key, for the cheap check at every check-in. */
  async recordEscrow(ref: string, key: string, knownProtectorId: string | null): Promise<void> {
    const protectorId = knownProtectorId ?? (await this.driver.findProtector(ref, key));
    const fingerprint = protectorId === null ? null : await this.driver.protectorFingerprint(ref, protectorId);
    if (protectorId === null || fingerprint === null) this.records.remove(ref);
    else this.records.set(ref, { protectorId, fingerprint });
  }

  /**
   * Completion was refused. Agent-generated key: take the new key off the disk again (the old,
   * still escrowed key stays). Platform-generated key (it already replaced the old one):
   * upload it as the volume's key, so the service holds the key that unlocks the disk.
   */
  private async rollBack(entry: RotationJournal): Promise<void> {
    const newKey = requireNewKey(entry);
    if (this.driver.keySource === 'platform') {
      await this.api.uploadProtectors({ volumeRef: entry.volumeRef, protectors: [{ protectorId: entry.newProtectorId ?? 'recovery-key', key: newKey }] });
      this.journal.remove(entry.operationId);
      return;
    }
    try {
      if (await this.driver.verifyKey(entry.volumeRef, entry.authorityKey)) {
        await this.driver.removeKey(entry.volumeRef, { key: newKey, protectorId: entry.newProtectorId }, entry.authorityKey);
      }
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      this.log(`operation ${entry.operationId}: could not take the new key off the disk (${error.message})`);
    }
    this.journal.remove(entry.operationId);
  }

  /** A disk step failed before completion: undo what is safe to undo and report the error. */
  private async abandon(entry: RotationJournal, detail: string, cause: DeviceErrorCause): Promise<RotationOutcome> {
    if (entry.added && entry.newKey !== null && this.driver.keySource === 'agent') {
      try {
        if (await this.driver.verifyKey(entry.volumeRef, entry.authorityKey)) {
          await this.driver.removeKey(entry.volumeRef, { key: entry.newKey, protectorId: entry.newProtectorId }, entry.authorityKey);
        }
      } catch (error) {
        if (!(error instanceof DiskError)) throw error;
      }
    }
    if (this.driver.keySource === 'platform' && entry.added) {
      this.log(`operation ${entry.operationId}: ${detail}; the platform already changed the key, keeping the journal`);
      return 'unfinished';
    }
    if (this.driver.keySource === 'platform' && !(await this.stillUnlocks(entry))) {
      // The platform replaced the key but the process died before the new key was recorded.
      detail = 'the recovery key was changed on the device but the new key was lost in a crash; rotate the key again with an administrator account';
    }
    await reportFailure(this.api, this.log, entry.operationId, detail, cause);
    this.journal.remove(entry.operationId);
    return 'failed';
  }

  private async stillUnlocks(entry: RotationJournal): Promise<boolean> {
    try {
      return await this.driver.verifyKey(entry.volumeRef, entry.authorityKey);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      return false;
    }
  }

  private async protectorIdOf(ref: string, key: string): Promise<string | null> {
    if (this.driver.keyKind !== 'bitlocker') return null;
    return (await this.driver.readExistingKeys(ref)).find((k) => k.key === key)?.protectorId ?? null;
  }
}

/** Reports an operation as failed (`error`, with its cause and a detail that holds no key). */
export async function reportFailure(api: AgentApi, log: Log, operationId: string, detail: string, cause: DeviceErrorCause = 'device_error'): Promise<void> {
  log(`operation ${operationId} failed (${cause}): ${detail}`);
  try {
    await api.complete(operationId, { result: 'error', detail: detail.slice(0, 500), cause });
  } catch (error) {
    if (!(error instanceof AgentApiError)) throw error;
    log(`operation ${operationId}: the service did not accept the failure report (${error.code})`);
  }
}

function requireNewKey(entry: RotationJournal): string {
  if (entry.newKey === null) throw new DiskError('the rotation has no new key yet');
  return entry.newKey;
}
