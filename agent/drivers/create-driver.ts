/** Builds the configured driver from the agent's settings. */
import type { KeyKind } from '../../lib/api/contract.ts';
import type { Log } from '../log.ts';
import { BitLockerDriver } from './bitlocker.ts';
import type { DiskDriver, DriverName } from './driver.ts';
import { FileVaultDriver } from './filevault.ts';
import { LuksDriver } from './luks.ts';
import { SimulatedDriver } from './simulated.ts';

export type DriverSettings = {
  driver: DriverName;
  keyKind: KeyKind;
  volumes: string[];
  simulatedDir: string;
  /** LUKS: cryptsetup KDF arguments for the key slots the agent adds (default: cryptsetup's own). */
  luksKdfArgs?: readonly string[];
  uuidDir?: string;
  username?: string;
};

export function createDriver(settings: DriverSettings, log: Log): DiskDriver {
  switch (settings.driver) {
    case 'simulated':
      return new SimulatedDriver({ dir: settings.simulatedDir, keyKind: settings.keyKind, log });
    case 'luks':
      return new LuksDriver({ volumes: settings.volumes, kdfArgs: settings.luksKdfArgs, uuidDir: settings.uuidDir, log });
    case 'filevault':
      return new FileVaultDriver({ username: settings.username, log });
    case 'bitlocker':
      return new BitLockerDriver({ volumes: settings.volumes.length > 0 ? settings.volumes : undefined, log });
  }
}

export const PLATFORM_OF_KIND = { filevault: 'macos', bitlocker: 'windows', luks: 'linux' } as const;
export const KIND_OF_DRIVER = { luks: 'luks', filevault: 'filevault', bitlocker: 'bitlocker' } as const;
