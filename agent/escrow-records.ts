/**
 * What the agent knows about each volume's escrowed key: which protector holds it (LUKS key
 * slot, BitLocker protector id) and that protector's fingerprint when the key was escrowed or
 * last proved. The cheap check at every check-in compares the disk with this record. One small
 * JSON file in the state dir (mode 0600), written atomically; it holds no key.
 */
import { readJsonFile, writeJsonAtomic } from './atomic-file.ts';

export type EscrowRecord = {
  protectorId: string;
  fingerprint: string;
  recordedAt: string;
  /** Set once a full check confirmed the key no longer opens the volume (it is not fetched again for every check-in). */
  confirmedBrokenAt?: string;
};

export class EscrowRecords {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  get(ref: string): EscrowRecord | null {
    return this.all()[ref] ?? null;
  }

  set(ref: string, record: Omit<EscrowRecord, 'recordedAt'>): void {
    const all = this.all();
    all[ref] = { ...record, recordedAt: new Date().toISOString() };
    writeJsonAtomic(this.path, all);
  }

  markConfirmedBroken(ref: string): void {
    const all = this.all();
    const record = all[ref];
    if (!record || record.confirmedBrokenAt) return;
    all[ref] = { ...record, confirmedBrokenAt: new Date().toISOString() };
    writeJsonAtomic(this.path, all);
  }

  remove(ref: string): void {
    const all = this.all();
    if (!(ref in all)) return;
    delete all[ref];
    writeJsonAtomic(this.path, all);
  }

  private all(): Record<string, EscrowRecord> {
    return (readJsonFile(this.path) as Record<string, EscrowRecord> | null) ?? {};
  }
}
