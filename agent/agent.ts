/**
 * The agent's check-in logic, independent of the CLI: repair any unfinished rotation from
 * the journal, check in, and run each task (verify-and-rotate, rotate, upload).
 *
 * Escrow before commit (DESIGN.md › Key lifecycle): the old key is removed from the disk
 * only after the service stored the new key (`pending`) AND the new key was verified on the
 * disk AND the operation was completed. Each step is journaled, so a crash anywhere is
 * continued by the next run. Keys never reach the log.
 */
import type { AgentTask, AgentVolumeReport, KeyKind } from '../lib/api/contract.ts';
import { generateRecoveryKey, parseRecoveryKey } from '../lib/keys/index.ts';
import { AgentApiError, type AgentApi } from './api-client.ts';
import { DiskError, type DiskDriver, type ExistingKey } from './drivers/driver.ts';
import type { Journal, RotationJournal } from './journal.ts';
import { silentLog, type Log } from './log.ts';

/** A durable step of a rotation, reported after it is journaled. */
export type RotationStep = 'escrowed' | 'added' | 'verified' | 'completed' | 'removed';

export type AgentOptions = {
  api: AgentApi;
  driver: DiskDriver;
  journal: Journal;
  log?: Log;
  /** Called after each journaled step (progress output; tests use it to inject crashes). */
  onStep?: (step: RotationStep, operationId: string) => void;
  generateKey?: (kind: KeyKind) => string;
};

export type CheckinResult = { tasks: number; nextCheckinSeconds: number };

export class Agent {
  private readonly api: AgentApi;
  private readonly driver: DiskDriver;
  private readonly journal: Journal;
  private readonly log: Log;
  private readonly onStep: (step: RotationStep, operationId: string) => void;
  private readonly generateKey: (kind: KeyKind) => string;

  constructor(options: AgentOptions) {
    this.api = options.api;
    this.driver = options.driver;
    this.journal = options.journal;
    this.log = options.log ?? silentLog;
    this.onStep = options.onStep ?? (() => undefined);
    this.generateKey = options.generateKey ?? ((kind) => generateRecoveryKey(kind));
  }

  /** One full cycle: repair, check in, run the tasks. Network failures propagate (retry later). */
  async checkInOnce(): Promise<CheckinResult> {
    await this.repair();
    const checkin = await this.api.checkin(await this.volumeReports());
    for (const task of checkin.tasks) await this.runTask(task);
    return { tasks: checkin.tasks.length, nextCheckinSeconds: checkin.nextCheckinSeconds };
  }

  /** Continues every rotation a previous run left unfinished. */
  async repair(): Promise<void> {
    for (const entry of this.journal.list()) {
      this.log(`continuing unfinished rotation for operation ${entry.operationId} on ${entry.volumeRef}`);
      await this.continueRotation(entry);
    }
  }

  async volumeReports(): Promise<AgentVolumeReport[]> {
    return (await this.driver.listVolumes()).map((v) => ({
      ref: v.ref,
      name: v.name,
      encrypted: v.encrypted,
      protectorIds: this.driver.keyKind === 'bitlocker' ? v.protectorIds : [],
    }));
  }

  /** Uploads the keys already on a volume (e.g. BitLocker numerical passwords); returns how many. */
  async uploadExistingKeys(ref: string): Promise<number> {
    const keys = await this.validExistingKeys(ref);
    if (keys.length > 0) await this.api.uploadProtectors({ volumeRef: ref, protectors: keys.map((k) => ({ protectorId: k.protectorId, key: k.key })) });
    this.log(`uploaded ${keys.length} existing key(s) of ${ref}`);
    return keys.length;
  }

  async runTask(task: AgentTask): Promise<void> {
    const unfinished = this.journal.list().find((e) => e.operationId === task.operationId);
    if (unfinished) return this.continueRotation(unfinished);
    this.log(`task ${task.kind} for operation ${task.operationId} on ${task.volumeRef}`);
    try {
      if (task.kind === 'verify-and-rotate') await this.verifyAndRotate(task);
      else if (task.kind === 'rotate') await this.rotate(task);
      else await this.upload(task);
    } catch (error) {
      if (error instanceof DiskError) return this.fail(task.operationId, error.message);
      if (error instanceof AgentApiError) {
        // Refused by the service (e.g. the operation was cancelled): nothing was changed on the disk.
        this.log(`operation ${task.operationId}: the service refused a request (${error.code}); skipping the task`);
        return;
      }
      throw error;
    }
  }

  private async verifyAndRotate(task: AgentTask): Promise<void> {
    if (task.candidateKey === null) return this.fail(task.operationId, 'the task carries no candidate key');
    if (!(await this.driver.verifyKey(task.volumeRef, task.candidateKey))) {
      this.log(`operation ${task.operationId}: the submitted key does not unlock ${task.volumeRef}`);
      await this.api.complete(task.operationId, { result: 'wrong_key' });
      return;
    }
    await this.startRotation(task, task.candidateKey);
  }

  private async rotate(task: AgentTask): Promise<void> {
    let authority = task.currentKey;
    if (authority === null || !(await this.driver.verifyKey(task.volumeRef, authority))) {
      // No usable escrowed key: escrow what the disk has (BitLocker), then rotate with it.
      const existing = await this.validExistingKeys(task.volumeRef);
      if (existing.length === 0) {
        const why = authority === null ? 'no escrowed key to authorize the rotation' : 'the escrowed key does not unlock the volume';
        return this.fail(task.operationId, `${why}, and no key can be read from the disk`);
      }
      await this.uploadExistingKeys(task.volumeRef);
      authority = existing[0].key;
    }
    await this.startRotation(task, authority);
  }

  private async upload(task: AgentTask): Promise<void> {
    const count = await this.uploadExistingKeys(task.volumeRef);
    if (count === 0) return this.fail(task.operationId, 'no recovery key can be read from this volume; rotate the key instead');
  }

  private async startRotation(task: AgentTask, authorityKey: string): Promise<void> {
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
    await this.continueRotation(entry);
  }

  /** Runs the remaining steps of a journaled rotation; every step is safe to repeat. */
  private async continueRotation(entry: RotationJournal): Promise<void> {
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
    await this.fail(entry.operationId, detail);
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

  private async fail(operationId: string, detail: string): Promise<void> {
    this.log(`operation ${operationId} failed: ${detail}`);
    try {
      await this.api.complete(operationId, { result: 'error', detail: detail.slice(0, 500) });
    } catch (error) {
      if (!(error instanceof AgentApiError)) throw error;
      this.log(`operation ${operationId}: the service did not accept the failure report (${error.code})`);
    }
  }

  private async validExistingKeys(ref: string): Promise<ExistingKey[]> {
    const keys = await this.driver.readExistingKeys(ref);
    const valid = keys.filter((k) => parseRecoveryKey(this.driver.keyKind, k.key).ok);
    if (valid.length < keys.length) this.log(`${ref}: skipped ${keys.length - valid.length} protector(s) whose key is not a valid ${this.driver.keyKind} key`);
    return valid;
  }

  private async protectorIdOf(ref: string, key: string): Promise<string | null> {
    if (this.driver.keyKind !== 'bitlocker') return null;
    return (await this.driver.readExistingKeys(ref)).find((k) => k.key === key)?.protectorId ?? null;
  }
}

function requireNewKey(entry: RotationJournal): string {
  if (entry.newKey === null) throw new DiskError('the rotation has no new key yet');
  return entry.newKey;
}
