/**
 * The rotation journal: one small file per operation in the state dir (mode 0600), written
 * atomically after every step of a rotation, so a crash at any point leaves a record the
 * next run continues from. It holds the old and new key until the rotation is finished
 * (the only local copy of a new key that may not yet be escrowed), then it is deleted.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationKind } from '../lib/api/contract.ts';
import { readJsonFile, removeFileDurably, writeJsonAtomic } from './atomic-file.ts';

export type RotationJournal = {
  operationId: string;
  taskKind: OperationKind;
  volumeRef: string;
  /** The key that unlocks the volume now and authorizes the change (candidate, current key, or the person's passphrase). */
  authorityKey: string;
  /**
   * The old escrowed key taken off the disk once the new one is active: null when nothing is to
   * be removed (a first escrowed key next to the person's own passphrase). Absent in journals of
   * earlier versions, which always removed the authority key.
   */
  retireKey?: string | null;
  /** The protector holding the key to retire, when the platform has ids (BitLocker). */
  oldProtectorId: string | null;
  /** The new key; null until the platform generated it (FileVault). */
  newKey: string | null;
  newProtectorId: string | null;
  /** Set once the service stored the new key as `pending`. */
  keyVersionId: string | null;
  added: boolean;
  verified: boolean;
  completed: boolean;
  updatedAt: string;
};

/** The key a rotation takes off the disk at its end, if any. */
export function keyToRetire(entry: RotationJournal): string | null {
  return entry.retireKey === undefined ? entry.authorityKey : entry.retireKey;
}

export class Journal {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  list(): RotationJournal[] {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.rotation.json')).sort();
    } catch {
      return [];
    }
    return files.map((f) => readJsonFile(join(this.dir, f)) as RotationJournal | null).filter((e): e is RotationJournal => e !== null);
  }

  save(entry: RotationJournal): void {
    entry.updatedAt = new Date().toISOString();
    writeJsonAtomic(this.path(entry.operationId), entry);
  }

  remove(operationId: string): void {
    removeFileDurably(this.path(operationId));
  }

  private path(operationId: string): string {
    return join(this.dir, `${encodeURIComponent(operationId)}.rotation.json`);
  }
}
