/**
 * The agent's check-in logic, independent of the CLI: continue any rotation a crash left
 * unfinished (rotation.ts, from the journal), check in with each volume's cheap escrow check,
 * run each task — verify-and-rotate (the user's key must unlock the disk, then it authorizes a
 * rotation), rotate (the escrowed key authorizes it), upload (keys already on the disk) — and
 * the full checks the service asks for (the escrowed key really opens the volume). It also
 * escrows a key of its own for a volume, authorized by the person's passphrase, which stays
 * on the disk (enrollment and repair of LUKS volumes). Keys never reach the log.
 */
import { dirname, join } from 'node:path';
import type { AgentTask, AgentVolumeReport, EscrowCheck, KeyKind } from '../lib/api/contract.ts';
import { generateRecoveryKey, parseRecoveryKey } from '../lib/keys/index.ts';
import { AgentApiError, type AgentApi } from './api-client.ts';
import { DiskError, type DiskDriver, type ExistingKey } from './drivers/driver.ts';
import { EscrowRecords } from './escrow-records.ts';
import type { Journal } from './journal.ts';
import type { SerialNumberReader } from './drivers/serial-number.ts';
import { silentLog, type Log } from './log.ts';
import { reportFailure, Rotation, type RotationOutcome, type RotationStep } from './rotation.ts';

export type { RotationStep, RotationOutcome };

export type AgentOptions = {
  api: AgentApi;
  driver: DiskDriver;
  journal: Journal;
  /** Which protector holds each escrowed key (default: `escrow-records.json` next to the journal). */
  records?: EscrowRecords;
  log?: Log;
  /** Called after each journaled step (progress output; tests use it to inject crashes). */
  onStep?: (step: RotationStep, operationId: string) => void;
  generateKey?: (kind: KeyKind) => string;
  /** Reads the machine's hardware serial number (drivers/serial-number.ts); none: no serial is reported. */
  readSerialNumber?: SerialNumberReader;
};

/** One check-in: how many tasks ran and failed, and which volumes' escrowed key no longer works. */
export type CheckinResult = { tasks: number; failed: number; broken: string[]; nextCheckinSeconds: number };

export type TaskOutcome = RotationOutcome;

export class Agent {
  private readonly api: AgentApi;
  private readonly driver: DiskDriver;
  private readonly journal: Journal;
  private readonly records: EscrowRecords;
  private readonly log: Log;
  private readonly rotation: Rotation;
  private readonly readSerialNumber: SerialNumberReader;
  /** Read once per run of the agent: a serial number does not change while the machine runs. */
  private serial: Promise<string | null> | null = null;

  constructor(options: AgentOptions) {
    this.readSerialNumber = options.readSerialNumber ?? (async () => null);
    this.api = options.api;
    this.driver = options.driver;
    this.journal = options.journal;
    this.records = options.records ?? new EscrowRecords(join(dirname(options.journal.dir), 'escrow-records.json'));
    this.log = options.log ?? silentLog;
    this.rotation = new Rotation({
      api: this.api,
      driver: this.driver,
      journal: this.journal,
      records: this.records,
      log: this.log,
      onStep: options.onStep ?? (() => undefined),
      generateKey: options.generateKey ?? ((kind) => generateRecoveryKey(kind)),
    });
  }

  /** One full cycle: repair, check in, run the tasks and the full checks. Network failures propagate (retry later). */
  async checkInOnce(): Promise<CheckinResult> {
    let failed = (await this.repair()).filter((o) => o === 'failed').length;
    const reports = await this.volumeReports();
    // This agent runs one task at a time and has none in hand now: anything handed out earlier is lost.
    const checkin = await this.api.checkin(reports, [], (await this.serialNumber()) ?? undefined);
    for (const task of checkin.tasks) if ((await this.runTask(task)) === 'failed') failed += 1;
    const suspect = reports.filter((r) => r.escrowCheck?.state === 'broken').map((r) => r.ref);
    const broken = new Set(suspect);
    // A changed slot may still hold the key (e.g. its KDF was converted): the full check tells,
    // once; a failure it confirmed is not fetched again at every check-in.
    const unconfirmed = suspect.filter((ref) => !this.records.get(ref)?.confirmedBrokenAt);
    for (const ref of new Set([...checkin.verifyVolumes, ...unconfirmed])) {
      const health = await this.fullCheck(ref);
      if (health === 'works') broken.delete(ref);
      if (health === 'broken') broken.add(ref);
    }
    return { tasks: checkin.tasks.length, failed, broken: [...broken], nextCheckinSeconds: checkin.nextCheckinSeconds };
  }

  /** The machine's hardware serial number, or null when it cannot be read (never an error). */
  serialNumber(): Promise<string | null> {
    this.serial ??= this.readSerialNumber().then((serial) => {
      if (serial === null) this.log('no hardware serial number could be read on this machine; none is reported');
      return serial;
    }, () => null);
    return this.serial;
  }

  /** Continues every rotation a previous run left unfinished. */
  async repair(): Promise<RotationOutcome[]> {
    const outcomes: RotationOutcome[] = [];
    for (const entry of this.journal.list()) {
      this.log(`continuing unfinished rotation for operation ${entry.operationId} on ${entry.volumeRef}`);
      outcomes.push(await this.rotation.continue(entry));
    }
    return outcomes;
  }

  /** The volumes as the service should see them, each with the cheap check of its escrowed key. */
  async volumeReports(): Promise<AgentVolumeReport[]> {
    const reports: AgentVolumeReport[] = [];
    for (const v of await this.driver.listVolumes()) {
      const escrowCheck = v.encrypted ? await this.cheapCheck(v.ref) : null;
      reports.push({
        ref: v.ref,
        name: v.name,
        encrypted: v.encrypted,
        protectorIds: this.driver.keyKind === 'bitlocker' ? v.protectorIds : [],
        ...(escrowCheck ? { escrowCheck } : {}),
      });
    }
    return reports;
  }

  /**
   * The cheap check: the protector holding the escrowed key is still there with the same
   * fingerprint. When it is not and the disk lets the agent read its keys (BitLocker), the
   * agent escrows what the disk has now, which repairs the escrow. Null: nothing to compare.
   */
  private async cheapCheck(ref: string): Promise<EscrowCheck | null> {
    const record = this.records.get(ref);
    if (record === null) return null;
    let now: string | null;
    try {
      now = await this.driver.protectorFingerprint(ref, record.protectorId);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      this.log(`${ref}: could not check the escrowed key (${error.message})`);
      return null;
    }
    if (now === record.fingerprint) return { state: 'ok' };
    const problem = now === null ? 'slot_removed' : 'slot_changed';
    this.log(`${ref}: the escrowed key's ${this.driver.keyKind === 'bitlocker' ? 'protector' : 'key slot'} ${record.protectorId} was ${problem === 'slot_removed' ? 'removed' : 'changed'}; the escrowed key may no longer work`);
    if (await this.repairFromDisk(ref)) return null;
    return { state: 'broken', problem };
  }

  /**
   * The full check: fetch the escrowed key over the agent's channel (audited by the service),
   * prove it opens the volume, record where it is, and report. A broken escrow the disk lets
   * the agent repair (BitLocker) is repaired.
   */
  async fullCheck(ref: string): Promise<'works' | 'broken' | 'none' | 'unknown'> {
    const health = await this.escrowHealth(ref);
    if (health === 'broken' && (await this.repairFromDisk(ref))) return 'works';
    return health;
  }

  /**
   * Whether the volume's escrowed key opens it: `works`, `broken`, `none` (nothing escrowed), or
   * `unknown` (the disk or the service could not tell). The result is reported to the service.
   */
  async escrowHealth(ref: string): Promise<'works' | 'broken' | 'none' | 'unknown'> {
    try {
      const { keyVersionId, key } = await this.api.verificationKey(ref);
      const works = await this.driver.verifyKey(ref, key);
      if (works) await this.rotation.recordEscrow(ref, key, null);
      else this.records.markConfirmedBroken(ref);
      await this.api.reportVerification({ volumeRef: ref, keyVersionId, works });
      this.log(`${ref}: full check of the escrowed key: ${works ? 'it opens the volume' : 'it NO LONGER opens the volume'}`);
      return works ? 'works' : 'broken';
    } catch (error) {
      if (error instanceof DiskError) {
        this.log(`${ref}: full check not possible (${error.message})`);
        return 'unknown';
      }
      if (error instanceof AgentApiError) {
        if (error.code === 'no_key') return 'none';
        if (error.credentialRefused) throw error;
        this.log(`${ref}: full check refused by the service (${error.code})`);
        return 'unknown';
      }
      throw error;
    }
  }

  /** Escrows the keys the disk lets the agent read (BitLocker); true when that repaired the escrow. */
  private async repairFromDisk(ref: string): Promise<boolean> {
    let keys: ExistingKey[];
    try {
      keys = await this.validExistingKeys(ref);
    } catch (error) {
      if (!(error instanceof DiskError)) throw error;
      return false;
    }
    if (keys.length === 0) return false;
    await this.api.uploadProtectors({ volumeRef: ref, protectors: keys.map((k) => ({ protectorId: k.protectorId, key: k.key })) });
    await this.rotation.recordEscrow(ref, keys[0].key, keys[0].protectorId);
    this.log(`${ref}: escrowed the ${keys.length} key(s) now on the disk, which repairs the escrow`);
    return true;
  }

  /** Uploads the keys already on a volume (e.g. BitLocker numerical passwords); returns how many. */
  async uploadExistingKeys(ref: string): Promise<number> {
    const keys = await this.validExistingKeys(ref);
    if (keys.length > 0) {
      await this.api.uploadProtectors({ volumeRef: ref, protectors: keys.map((k) => ({ protectorId: k.protectorId, key: k.key })) });
      await this.rotation.recordEscrow(ref, keys[0].key, keys[0].protectorId);
    }
    this.log(`uploaded ${keys.length} existing key(s) of ${ref}`);
    return keys.length;
  }

  /**
   * Adds a recovery key of the agent's own to a volume, authorized by `passphrase` (the person's
   * own unlock, typed on the device), escrowed before it is committed; the passphrase stays on
   * the disk and never leaves the device. An old escrowed key that still opens the volume is
   * removed at the end (it was ours).
   */
  async escrowNewKey(ref: string, passphrase: string, purpose: 'enroll' | 'repair'): Promise<RotationOutcome> {
    const task = await this.api.startEscrow({ volumeRef: ref, purpose });
    this.log(`escrowing a new recovery key for ${ref} (${purpose}), operation ${task.operationId}`);
    const old = task.currentKey;
    const retire = old !== null && old !== passphrase && (await this.driver.verifyKey(ref, old)) ? old : null;
    return this.rotation.start(task, passphrase, retire);
  }

  async runTask(task: AgentTask): Promise<TaskOutcome> {
    const unfinished = this.journal.list().find((e) => e.operationId === task.operationId);
    if (unfinished) return this.rotation.continue(unfinished);
    this.log(`task ${task.kind} for operation ${task.operationId} on ${task.volumeRef}`);
    try {
      if (task.kind === 'verify-and-rotate') return await this.verifyAndRotate(task);
      if (task.kind === 'rotate') return await this.rotate(task);
      return await this.upload(task);
    } catch (error) {
      if (error instanceof DiskError) {
        await reportFailure(this.api, this.log, task.operationId, error.message, error.reason);
        return 'failed';
      }
      if (error instanceof AgentApiError) {
        // Refused by the service (e.g. the operation was cancelled): nothing was changed on the disk.
        this.log(`operation ${task.operationId}: the service refused a request (${error.code}); skipping the task`);
        return 'skipped';
      }
      throw error;
    }
  }

  private async verifyAndRotate(task: AgentTask): Promise<TaskOutcome> {
    if (task.candidateKey === null) {
      await reportFailure(this.api, this.log, task.operationId, 'the task carries no candidate key');
      return 'failed';
    }
    if (!(await this.driver.verifyKey(task.volumeRef, task.candidateKey))) {
      this.log(`operation ${task.operationId}: the submitted key does not unlock ${task.volumeRef}`);
      await this.api.complete(task.operationId, { result: 'wrong_key' });
      return 'failed';
    }
    if (this.driver.keyKind !== 'luks') return this.rotation.start(task, task.candidateKey);
    // A LUKS passphrase is the person's own unlock: it authorizes a key slot of ours and stays.
    const old = task.currentKey;
    const retire = old !== null && old !== task.candidateKey && (await this.driver.verifyKey(task.volumeRef, old)) ? old : null;
    return this.rotation.start(task, task.candidateKey, retire);
  }

  private async rotate(task: AgentTask): Promise<TaskOutcome> {
    let authority = task.currentKey;
    if (authority === null || !(await this.driver.verifyKey(task.volumeRef, authority))) {
      // No usable escrowed key: escrow what the disk has (BitLocker), then rotate with it.
      const existing = await this.validExistingKeys(task.volumeRef);
      if (existing.length === 0) {
        const why = authority === null ? 'no escrowed key to authorize the rotation' : 'the escrowed key does not unlock the volume';
        const guidance = this.driver.keyKind === 'luks' ? '; on the device run `sudo keyward-agent repair` and type the disk passphrase' : '';
        await reportFailure(this.api, this.log, task.operationId, `${why}, and no key can be read from the disk${guidance}`, 'escrowed_key_rejected');
        return 'failed';
      }
      await this.uploadExistingKeys(task.volumeRef);
      authority = existing[0].key;
    }
    return this.rotation.start(task, authority);
  }

  private async upload(task: AgentTask): Promise<TaskOutcome> {
    const count = await this.uploadExistingKeys(task.volumeRef);
    if (count > 0) return 'finished';
    await reportFailure(this.api, this.log, task.operationId, 'no recovery key can be read from this volume; rotate the key instead');
    return 'failed';
  }

  private async validExistingKeys(ref: string): Promise<ExistingKey[]> {
    const keys = await this.driver.readExistingKeys(ref);
    const valid = keys.filter((k) => parseRecoveryKey(this.driver.keyKind, k.key).ok);
    if (valid.length < keys.length) this.log(`${ref}: skipped ${keys.length - valid.length} protector(s) whose key is not a valid ${this.driver.keyKind} key`);
    return valid;
  }
}
