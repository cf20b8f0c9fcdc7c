/**
 * The agent's check-in logic, independent of the CLI: continue any rotation a crash left
 * unfinished (rotation.ts, from the journal), check in, and run each task: verify-and-rotate
 * (the user's key must unlock the disk, then it authorizes a rotation), rotate (the escrowed
 * key authorizes it), upload (keys already on the disk). Keys never reach the log.
 */
import type { AgentTask, AgentVolumeReport, KeyKind } from '../lib/api/contract.ts';
import { generateRecoveryKey, parseRecoveryKey } from '../lib/keys/index.ts';
import { AgentApiError, type AgentApi } from './api-client.ts';
import { DiskError, type DiskDriver, type ExistingKey } from './drivers/driver.ts';
import type { Journal } from './journal.ts';
import { silentLog, type Log } from './log.ts';
import { reportFailure, Rotation, type RotationStep } from './rotation.ts';

export type { RotationStep };

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
  private readonly rotation: Rotation;

  constructor(options: AgentOptions) {
    this.api = options.api;
    this.driver = options.driver;
    this.journal = options.journal;
    this.log = options.log ?? silentLog;
    this.rotation = new Rotation({
      api: this.api,
      driver: this.driver,
      journal: this.journal,
      log: this.log,
      onStep: options.onStep ?? (() => undefined),
      generateKey: options.generateKey ?? ((kind) => generateRecoveryKey(kind)),
    });
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
      await this.rotation.continue(entry);
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
    if (unfinished) return this.rotation.continue(unfinished);
    this.log(`task ${task.kind} for operation ${task.operationId} on ${task.volumeRef}`);
    try {
      if (task.kind === 'verify-and-rotate') await this.verifyAndRotate(task);
      else if (task.kind === 'rotate') await this.rotate(task);
      else await this.upload(task);
    } catch (error) {
      if (error instanceof DiskError) return reportFailure(this.api, this.log, task.operationId, error.message);
      if (error instanceof AgentApiError) {
        // Refused by the service (e.g. the operation was cancelled): nothing was changed on the disk.
        this.log(`operation ${task.operationId}: the service refused a request (${error.code}); skipping the task`);
        return;
      }
      throw error;
    }
  }

  private async verifyAndRotate(task: AgentTask): Promise<void> {
    if (task.candidateKey === null) return reportFailure(this.api, this.log, task.operationId, 'the task carries no candidate key');
    if (!(await this.driver.verifyKey(task.volumeRef, task.candidateKey))) {
      this.log(`operation ${task.operationId}: the submitted key does not unlock ${task.volumeRef}`);
      await this.api.complete(task.operationId, { result: 'wrong_key' });
      return;
    }
    await this.rotation.start(task, task.candidateKey);
  }

  private async rotate(task: AgentTask): Promise<void> {
    let authority = task.currentKey;
    if (authority === null || !(await this.driver.verifyKey(task.volumeRef, authority))) {
      // No usable escrowed key: escrow what the disk has (BitLocker), then rotate with it.
      const existing = await this.validExistingKeys(task.volumeRef);
      if (existing.length === 0) {
        const why = authority === null ? 'no escrowed key to authorize the rotation' : 'the escrowed key does not unlock the volume';
        return reportFailure(this.api, this.log, task.operationId, `${why}, and no key can be read from the disk`);
      }
      await this.uploadExistingKeys(task.volumeRef);
      authority = existing[0].key;
    }
    await this.rotation.start(task, authority);
  }

  private async upload(task: AgentTask): Promise<void> {
    const count = await this.uploadExistingKeys(task.volumeRef);
    if (count === 0) return reportFailure(this.api, this.log, task.operationId, 'no recovery key can be read from this volume; rotate the key instead');
  }

  private async validExistingKeys(ref: string): Promise<ExistingKey[]> {
    const keys = await this.driver.readExistingKeys(ref);
    const valid = keys.filter((k) => parseRecoveryKey(this.driver.keyKind, k.key).ok);
    if (valid.length < keys.length) this.log(`${ref}: skipped ${keys.length - valid.length} protector(s) whose key is not a valid ${this.driver.keyKind} key`);
    return valid;
  }
}
