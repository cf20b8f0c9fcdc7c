/**
 * The one place the background meets utils/vault: the vault's API shaped to what the
 * background needs — state, unlock/lock with a resumable session key (base64, for
 * storage.session only), device metadata (readable while locked), revealed keys cached
 * encrypted for offline use, and the offline-reveal outbox.
 */
import type { Device, RevealedKey } from '../../lib/api/contract.ts';
import type { Done, VaultState } from '../../utils/client/messages.ts';
import { isVaultError, openVault, type Progress, type Vault } from '../../utils/vault/index.ts';
import { vaultFailure } from './vault-failure.ts';
import { KEY_SHOWN_SECONDS } from '../../lib/keys/exposure.ts';

export type OfflineReveal = { deviceId: string; volumeId: string; version: number; at: string; idempotencyKey: string };

/** How long a key read from the vault offline stays shown (the service's own default for online reveals). */
const OFFLINE_HIDE_AFTER_SECONDS = KEY_SHOWN_SECONDS;

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Runs a vault action; a vault error becomes the UI's failure (vault-failure.ts), anything else is thrown on. */
async function outcome(action: () => Promise<void>, vault: Vault): Promise<Done> {
  try {
    await action();
    return { ok: true };
  } catch (error) {
    if (!isVaultError(error)) throw error;
    return vaultFailure(error.code, (await vault.status()).lockedOutUntil);
  }
}

export function openVaultPort() {
  let opened: Promise<Vault> | null = null;
  const vault = () => (opened ??= openVault('keyward-vault'));

  return {
    async state(): Promise<VaultState> {
      const v = await vault();
      if (!(await v.isInitialized())) return 'none';
      return v.isUnlocked() ? 'unlocked' : 'locked';
    },
    async create(passphrase: string, onProgress: Progress): Promise<Done> {
      const v = await vault();
      return outcome(() => v.setup(passphrase, onProgress), v);
    },
    async unlock(passphrase: string, onProgress: Progress): Promise<Done> {
      const v = await vault();
      return outcome(() => v.unlock(passphrase, onProgress), v);
    },
    async changePassphrase(oldPassphrase: string, newPassphrase: string, onProgress: Progress): Promise<Done> {
      const v = await vault();
      return outcome(() => v.changePassphrase(oldPassphrase, newPassphrase, onProgress), v);
    },
    async lock(): Promise<void> {
      (await vault()).lock();
    },
    /** Forgotten passphrase: drops the cached keys and the passphrase (see Vault.reset). */
    async reset(): Promise<void> {
      await (await vault()).reset();
    },
    async exportSession(): Promise<string | null> {
      const v = await vault();
      return v.isUnlocked() ? toBase64(v.exportSessionKey()) : null;
    },
    async resumeSession(session: string): Promise<boolean> {
      const v = await vault();
      return (await outcome(() => v.resumeFromSessionKey(fromBase64(session)), v)).ok;
    },
    /** Caches devices from a sync; a full sync also drops devices (and keys) no longer listed. */
    async saveDevices(devices: Device[], options: { full: boolean }): Promise<void> {
      await (await vault()).putDevices(devices, { fullSync: options.full });
    },
    /**
     * Refreshes one cached device (e.g. each time a portal page's live part changes); IndexedDB
     * is written only when something in the device changed.
     */
    async updateDevice(device: Device): Promise<boolean> {
      return (await vault()).updateDevice(device);
    },
    /** Drops every cached key (policy `offlineCache: metadata`). */
    async forgetKeys(): Promise<void> {
      await (await vault()).deleteKeys();
    },
    /** Drops every cached device and its cached keys (after sign-out). */
    async forgetDevices(): Promise<void> {
      await (await vault()).putDevices([], { fullSync: true });
    },
    async listDevices(): Promise<Device[]> {
      return (await vault()).listDevices();
    },
    async saveRevealedKey(key: RevealedKey): Promise<void> {
      await (await vault()).putKey({
        deviceId: key.deviceId, volumeId: key.volumeId, kind: key.kind, version: key.version, key: key.key, protectorId: key.protectorId,
      });
    },
    /** The newest cached key of a volume (or of the device's newest cached volume), shown offline. */
    async readCachedKey(deviceId: string, volumeId?: string): Promise<RevealedKey | null> {
      const v = await vault();
      const versions = await v.listKeyVersions(deviceId);
      const chosen = volumeId ?? versions.sort((a, b) => b.storedAt - a.storedAt)[0]?.volumeId;
      if (!chosen) return null;
      const stored = await v.getKey(deviceId, chosen);
      if (!stored) return null;
      const device = await v.getDevice(deviceId);
      const volumeName = device?.volumes.find((vol) => vol.id === chosen)?.name ?? chosen;
      return {
        deviceId, volumeId: chosen, volumeName, kind: stored.kind, version: stored.version, key: stored.key,
        protectorId: stored.protectorId, revealedAt: new Date().toISOString(), hideAfterSeconds: OFFLINE_HIDE_AFTER_SECONDS,
      };
    },
    async queueOfflineReveal(reveal: OfflineReveal): Promise<void> {
      await (await vault()).enqueue({
        kind: 'offline_reveal', deviceId: reveal.deviceId, idempotencyKey: reveal.idempotencyKey,
        payload: { volumeId: reveal.volumeId, version: reveal.version, at: reveal.at },
      });
    },
    async pendingOfflineReveals(): Promise<OfflineReveal[]> {
      const due = await (await vault()).due(500);
      return due
        .filter((item) => item.kind === 'offline_reveal')
        .map((item) => ({
          deviceId: item.deviceId, idempotencyKey: item.id,
          volumeId: String(item.payload.volumeId), version: Number(item.payload.version), at: String(item.payload.at),
        }));
    },
    async settleOfflineReveals(idempotencyKeys: string[], error: string | null): Promise<void> {
      const v = await vault();
      for (const id of idempotencyKeys) {
        if (error === null) await v.markDone(id);
        else await v.markFailed(id, error);
      }
    },
  };
}

export type VaultPort = ReturnType<typeof openVaultPort>;
