/**
 * The one place the background meets lib/vault: what the background needs from the local
 * vault (metadata cache readable while locked, encrypted key cache, offline-reveal outbox,
 * unlock/lock with a resumable session), adapted to the vault's own API.
 */
import type { RevealedKey } from '../../lib/api/contract.ts';
import type { CachedDevice, VaultState } from '../../lib/client/messages.ts';

export type OfflineReveal = { deviceId: string; volumeId: string; version: number; at: string; idempotencyKey: string };
export type Progress = (fraction: number) => void;

export type VaultPort = {
  state(): Promise<VaultState>;
  create(passphrase: string, onProgress: Progress): Promise<void>;
  /** false: wrong passphrase. */
  unlock(passphrase: string, onProgress: Progress): Promise<boolean>;
  lock(): Promise<void>;
  changePassphrase(oldPassphrase: string, newPassphrase: string, onProgress: Progress): Promise<boolean>;
  /** A serialized unlocked session for storage.session, or null when locked. */
  exportSession(): Promise<string | null>;
  resumeSession(session: string): Promise<boolean>;
  saveDevices(devices: CachedDevice[]): Promise<void>;
  listDevices(): Promise<CachedDevice[]>;
  saveRevealedKey(key: RevealedKey): Promise<void>;
  readCachedKey(deviceId: string, volumeId?: string): Promise<RevealedKey | null>;
  queueOfflineReveal(reveal: OfflineReveal): Promise<void>;
  pendingOfflineReveals(): Promise<OfflineReveal[]>;
  removeOfflineReveals(idempotencyKeys: string[]): Promise<void>;
};
