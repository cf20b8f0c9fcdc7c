/** Adapts lib/vault to the background's VaultPort (placeholder until lib/vault lands). */
import type { VaultPort } from './vault-port.ts';

export function openVaultPort(): VaultPort {
  let devices: Awaited<ReturnType<VaultPort['listDevices']>> = [];
  return {
    state: async () => 'none',
    create: async () => undefined,
    unlock: async () => false,
    lock: async () => undefined,
    changePassphrase: async () => false,
    exportSession: async () => null,
    resumeSession: async () => false,
    saveDevices: async (list) => {
      devices = list;
    },
    listDevices: async () => devices,
    saveRevealedKey: async () => undefined,
    readCachedKey: async () => null,
    queueOfflineReveal: async () => undefined,
    pendingOfflineReveals: async () => [],
    removeOfflineReveals: async () => undefined,
  };
}
