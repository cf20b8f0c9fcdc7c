/**
 * SIMULATED driver: a fake encrypted volume kept as one JSON file per volume, holding key
 * slots in plain text (it is a stand-in for a disk, for the demo and tests; it protects
 * nothing). Every file, status line and log line says SIMULATED. Writes are atomic
 * (temp file + rename), so a crash never leaves a half-written volume.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { KeyKind } from '../../lib/api/contract.ts';
import { readJsonFile, writeJsonAtomic } from '../atomic-file.ts';
import type { Log } from '../log.ts';
import { silentLog } from '../log.ts';
import { DiskError, type AddedKey, type DiskDriver, type DriverVolume, type ExistingKey, type KeyToRemove } from './driver.ts';

export const SIMULATED_LABEL = 'SIMULATED';

export type SimulatedSlot = { id: string; key: string };
export type SimulatedVolumeFile = {
  label: string;
  ref: string;
  name: string;
  keyKind: KeyKind;
  encrypted: boolean;
  nextSlot: number;
  slots: SimulatedSlot[];
};

function volumePath(dir: string, ref: string): string {
  return join(dir, `${encodeURIComponent(ref)}.volume.json`);
}

function newProtectorId(kind: KeyKind, volume: SimulatedVolumeFile): string {
  return kind === 'bitlocker' ? `{${randomUUID().toUpperCase()}}` : `slot-${volume.nextSlot}`;
}

/** Creates a SIMULATED encrypted volume holding one key, unless it already exists. */
export function createSimulatedVolume(dir: string, spec: { ref: string; name: string; keyKind: KeyKind; key: string }): void {
  const path = volumePath(dir, spec.ref);
  if (readJsonFile(path) !== null) return;
  const volume: SimulatedVolumeFile = {
    label: `${SIMULATED_LABEL} volume: a stand-in for a real disk, not encrypted storage`,
    ref: spec.ref,
    name: spec.name,
    keyKind: spec.keyKind,
    encrypted: true,
    nextSlot: 0,
    slots: [],
  };
  volume.slots.push({ id: newProtectorId(spec.keyKind, volume), key: spec.key });
  volume.nextSlot += 1;
  writeJsonAtomic(path, volume);
}

/** Synchronous read of a SIMULATED volume's keys (newest last), for the demo and tests. */
export function readSimulatedVolume(dir: string, ref: string): SimulatedVolumeFile {
  return JSON.parse(readFileSync(volumePath(dir, ref), 'utf8')) as SimulatedVolumeFile;
}

/** The SIMULATED device's fake hardware serial number: `SIM-` and twelve characters derived from `seed`. */
export function simulatedSerialNumber(seed: string): string {
  return `SIM-${createHash('sha256').update(`${SIMULATED_LABEL} serial\n${seed}`).digest('hex').slice(0, 12).toUpperCase()}`;
}

export class SimulatedDriver implements DiskDriver {
  readonly name = 'simulated' as const;
  readonly keySource = 'agent' as const;
  readonly keyKind: KeyKind;
  readonly dir: string;
  private readonly log: Log;

  constructor(options: { dir: string; keyKind: KeyKind; log?: Log }) {
    this.dir = options.dir;
    this.keyKind = options.keyKind;
    const log = options.log ?? silentLog;
    this.log = (line) => log(`[${SIMULATED_LABEL}] ${line}`);
  }

  async listVolumes(): Promise<DriverVolume[]> {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.volume.json')).sort();
    } catch {
      files = [];
    }
    return files.map((file) => {
      const volume = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as SimulatedVolumeFile;
      return {
        ref: volume.ref,
        name: volume.name,
        encrypted: volume.encrypted,
        protectorIds: this.keyKind === 'bitlocker' ? volume.slots.map((s) => s.id) : [],
      };
    });
  }

  async verifyKey(ref: string, key: string): Promise<boolean> {
    const ok = this.load(ref).slots.some((slot) => slot.key === key);
    this.log(`verify key on ${ref}: ${ok ? 'unlocks' : 'does not unlock'}`);
    return ok;
  }

  async addKey(ref: string, authorityKey: string, newKey: string | null): Promise<AddedKey> {
    if (newKey === null) throw new DiskError('the SIMULATED driver needs the new key from the agent');
    const volume = this.load(ref);
    if (!volume.slots.some((slot) => slot.key === authorityKey)) throw new DiskError(`SIMULATED volume ${ref}: the authorizing key does not unlock it`);
    const existing = volume.slots.find((slot) => slot.key === newKey);
    if (existing) return { protectorId: existing.id, key: newKey };
    const slot = { id: newProtectorId(this.keyKind, volume), key: newKey };
    volume.slots.push(slot);
    volume.nextSlot += 1;
    this.save(volume);
    this.log(`added key slot ${slot.id} on ${ref}`);
    return { protectorId: slot.id, key: newKey };
  }

  async removeKey(ref: string, target: KeyToRemove, remainingKey: string): Promise<void> {
    const volume = this.load(ref);
    if (!volume.slots.some((slot) => slot.key === remainingKey)) throw new DiskError(`SIMULATED volume ${ref}: refusing to remove a key, the remaining key does not unlock it`);
    if (target.key === remainingKey) throw new DiskError(`SIMULATED volume ${ref}: refusing to remove the key that must remain`);
    const keep = volume.slots.filter((slot) => slot.key !== target.key && (target.protectorId === null || slot.id !== target.protectorId));
    if (!keep.some((slot) => slot.key === remainingKey)) throw new DiskError(`SIMULATED volume ${ref}: refusing to remove the last working key`);
    const removed = volume.slots.length - keep.length;
    volume.slots = keep;
    this.save(volume);
    this.log(`removed ${removed} key slot(s) from ${ref}`);
  }

  async readExistingKeys(ref: string): Promise<ExistingKey[]> {
    return this.load(ref).slots.map((slot) => ({ protectorId: slot.id, key: slot.key }));
  }

  async findProtector(ref: string, key: string): Promise<string | null> {
    return this.load(ref).slots.find((slot) => slot.key === key)?.id ?? null;
  }

  async protectorFingerprint(ref: string, protectorId: string): Promise<string | null> {
    const slot = this.load(ref).slots.find((s) => s.id === protectorId);
    return slot ? createHash('sha256').update(`${slot.id}\n${slot.key}`).digest('hex').slice(0, 32) : null;
  }

  /** Status text for `keyward-agent status`. */
  describe(): string {
    return `${SIMULATED_LABEL} driver (fake volumes in ${this.dir}; not a real disk)`;
  }

  private load(ref: string): SimulatedVolumeFile {
    const volume = readJsonFile(volumePath(this.dir, ref)) as SimulatedVolumeFile | null;
    if (volume === null) throw new DiskError(`no SIMULATED volume ${ref}`);
    return volume;
  }

  private save(volume: SimulatedVolumeFile): void {
    writeJsonAtomic(volumePath(this.dir, volume.ref), volume);
  }
}
