/**
 * One key rotation, as a journaled sequence of steps that each may be repeated after a crash:
 * escrow the new key as `pending` → add it on the disk → verify it on the disk → complete
 * the operation → only then remove the old key (DESIGN.md › escrow before commit). Where the
 * platform generates the key itself (FileVault) the add comes first and the journal holds
 * the new key until the service has it. Keys never reach the log.
 */
import type { AgentTask, KeyKind } from '../lib/api/contract.ts';
import { AgentApiError, type AgentApi } from './api-client.ts';
import { DiskError, type DiskDriver } from './drivers/driver.ts';
import type { Journal, RotationJournal } from './journal.ts';
import type { Log } from './log.ts';

/** A durable step of a rotation, reported after it is journaled. */
export type RotationStep = 'escrowed' | 'added' | 'verified' | 'completed' | 'removed';

export type RotationDeps = {
  api: AgentApi;
  driver: DiskDriver;
  journal: Journal;
  log: Log;
  onStep: (step: RotationStep, operationId: string) => void;
  generateKey: (kind: KeyKind) => string;
};

export class Rotation {
  private readonly api: AgentApi;
  private readonly driver: DiskDriver;
  private readonly journal: Journal;
  private readonly log: Log;
  private readonly onStep: (step: RotationStep, operationId: string) => void;
  private readonly generateKey: (kind: KeyKind) => string;

  constructor(deps: RotationDeps) {
    this.api = deps.api;
    this.driver = deps.driver;
    this.journal = deps.journal;
    this.log = deps.log;
    this.onStep = deps.onStep;
    this.generateKey = deps.generateKey;
  }

  /** Journals a new rotation of the task's volume, authorized by `authorityKey`, and runs it. */
  async start(task: AgentTask, authorityKey: string): Promise<void> {
    const oldProtectorId = this.driver.keyKind === 'bitlocker'
      ? ((await this.driver.readExistingKeys(task.volumeRef)).find((k) => k.key === authorityKey)?.protectorId ?? null)
      : null;
    const entry: RotationJournal = {
      operationId: task.operationId,
      taskKind: task.kind,
      volumeRef: task.volumeRef,
      authorityKey,
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
    await this.continue(entry);
  }

  /** Runs the remaining steps of a journaled rotation; every step is safe to repeat. */
  async continue(entry: RotationJournal): Promise<void> {
    try {
      if (this.driver.keySource === 'agent') {
        if (entry.keyVersionId === null && !(await this.escrow(entry))) return;
        if (!entry.added) await this.addOnDisk(entry);
      } else {
        if (!entry.added) await this.addOnDisk(entry);
        if (entry.keyVersionId === null && !(await this.escrow(entry))) return;
      }
      if (!entry.verified) await this.verifyOnDisk(entry);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      return this.abandon(entry, error.message);
    }
    if (!entry.completed && !(await this.completeOk(entry))) return;
    await this.removeOldKey(entry);
  }

  /** Step 1 (before the disk changes, except where the platform generates the key). */
  private async escrow(entry: RotationJournal): Promise<boolean> {
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
        return false;
      }
      this.log(`operation ${entry.operationId}: the service refused to escrow the new key (${error.code}); the disk was not changed`);
      this.journal.remove(entry.operationId);
      return false;
    }
    this.journal.save(entry);
    this.log(`operation ${entry.operationId}: new key escrowed as pending`);
    this.onStep('escrowed', entry.operationId);
    return true;
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

  /** Step 5: only now does the old key leave the disk. */
  private async removeOldKey(entry: RotationJournal): Promise<void> {
    try {
      await this.driver.removeKey(entry.volumeRef, { key: entry.authorityKey, protectorId: entry.oldProtectorId }, requireNewKey(entry));
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      this.log(`operation ${entry.operationId}: could not remove the old key (${error.message}); will retry`);
      return;
    }
    this.journal.remove(entry.operationId);
    this.log(`operation ${entry.operationId}: old key removed from ${entry.volumeRef}; rotation finished`);
    this.onStep('removed', entry.operationId);
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
  private async abandon(entry: RotationJournal, detail: string): Promise<void> {
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
      return;
    }
    if (this.driver.keySource === 'platform' && !(await this.stillUnlocks(entry))) {
      // The platform replaced the key but the process died before the new key was recorded.
      detail = 'the recovery key was changed on the device but the new key was lost in a crash; rotate the key again with an administrator account';
    }
    await reportFailure(this.api, this.log, entry.operationId, detail);
    this.journal.remove(entry.operationId);
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

/** Reports an operation as failed (`error`, with a detail that holds no key). */
export async function reportFailure(api: AgentApi, log: Log, operationId: string, detail: string): Promise<void> {
  log(`operation ${operationId} failed: ${detail}`);
  try {
    await api.complete(operationId, { result: 'error', detail: detail.slice(0, 500) });
  } catch (error) {
    if (!(error instanceof AgentApiError)) throw error;
    log(`operation ${operationId}: the service did not accept the failure report (${error.code})`);
  }
}

function requireNewKey(entry: RotationJournal): string {
  if (entry.newKey === null) throw new DiskError('the rotation has no new key yet');
  return entry.newKey;
}
