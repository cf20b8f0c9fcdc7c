/**
 * The agent's state directory (default `~/.keyward-agent`, mode 0700): `agent.json` (server,
 * device id, driver settings), `credential` (the device credential, mode 0600), `journal/`
 * (unfinished rotations), `escrow-records.json` (which key slot holds each escrowed key, for the
 * cheap check) and, for the SIMULATED driver, `simulated-volumes/`. Fields an older agent wrote
 * that this one no longer knows are ignored.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KeyKind, Platform } from '../lib/api/contract.ts';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from './atomic-file.ts';
import type { DriverName } from './drivers/driver.ts';
import { EscrowRecords } from './escrow-records.ts';
import { Journal } from './journal.ts';

export type AgentConfig = {
  serverUrl: string;
  deviceId: string;
  name: string;
  platform: Platform;
  keyKind: KeyKind;
  driver: DriverName;
  /** Volumes the driver manages (LUKS: paths or `UUID=<uuid>`; BitLocker: drive letters). */
  volumes: string[];
  /** LUKS: where udev's by-uuid links are, if not /dev/disk/by-uuid. */
  uuidDir?: string;
  /** FileVault: the macOS user passed to fdesetup. */
  username?: string;
  /** Volumes whose existing key was escrowed right after enrollment. */
  uploadedVolumes: string[];
  enrolledAt: string;
};

export function defaultStateDir(): string {
  return join(homedir(), '.keyward-agent');
}

export class AgentState {
  readonly dir: string;
  readonly journal: Journal;
  readonly records: EscrowRecords;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    this.journal = new Journal(join(dir, 'journal'));
    this.records = new EscrowRecords(join(dir, 'escrow-records.json'));
  }

  get simulatedVolumesDir(): string {
    return join(this.dir, 'simulated-volumes');
  }

  readConfig(): AgentConfig | null {
    return readJsonFile(join(this.dir, 'agent.json')) as AgentConfig | null;
  }

  writeConfig(config: AgentConfig): void {
    writeJsonAtomic(join(this.dir, 'agent.json'), config);
  }

  readCredential(): string | null {
    try {
      return readFileSync(join(this.dir, 'credential'), 'utf8').trim() || null;
    } catch {
      return null;
    }
  }

  writeCredential(credential: string): void {
    writeFileAtomic(join(this.dir, 'credential'), `${credential}\n`, 0o600);
  }
}
