/**
 * Sync with the escrow service: refreshes the account, caches device metadata in the vault
 * (so statuses show offline and while locked) and reports queued offline reveals.
 * Runs on the sync alarm, after sign-in, and on "Sync now".
 */
import type { Device } from '../../lib/api/contract.ts';
import { failure, type CachedDevice, type Done } from '../../lib/client/messages.ts';
import { apiClient } from './api.ts';
import { isSignedIn } from './auth.ts';
import { writeAccount, writeSyncStatus } from './settings.ts';
import type { VaultPort } from './vault-adapter.ts';

export const SYNC_ALARM = 'keyward-sync';
export const SYNC_PERIOD_MINUTES = 5;

export function toCachedDevice(device: Device): CachedDevice {
  return {
    id: device.id,
    name: device.name,
    platform: device.platform,
    ownership: device.ownership,
    keyKind: device.keyKind,
    keyStatus: device.keyStatus,
    lastCheckinAt: device.lastCheckinAt,
    updatedAt: device.updatedAt,
    volumes: device.volumes.map((v) => ({ id: v.id, name: v.name })),
  };
}

let running: Promise<Done> | null = null;

export function syncNow(vault: VaultPort): Promise<Done> {
  running ??= runSync(vault).finally(() => {
    running = null;
  });
  return running;
}

async function runSync(vault: VaultPort): Promise<Done> {
  if (!(await isSignedIn())) return failure('not_signed_in', 'Sign in first.');
  const api = await apiClient();
  const me = await api.me();
  if (!me.ok) {
    await writeSyncStatus({ online: me.error.code !== 'network' });
    return me;
  }
  const { user, org } = me.data;
  const offlineCache = org.offlineCache ?? 'keys';
  await writeAccount({ name: user.name, email: user.email, supportContact: org.supportContact, locale: user.locale, offlineCache });
  if (offlineCache === 'metadata') await vault.forgetKeys();
  const list = await api.listDevices();
  if (!list.ok) {
    await writeSyncStatus({ online: list.error.code !== 'network' });
    return list;
  }
  await vault.saveDevices(list.data.devices, list.data.cursor);
  await writeSyncStatus({ online: true, lastSyncAt: new Date().toISOString(), cursor: list.data.cursor });
  await flushOfflineReveals(vault);
  return { ok: true };
}

async function flushOfflineReveals(vault: VaultPort): Promise<void> {
  const reveals = await vault.pendingOfflineReveals();
  if (reveals.length === 0) return;
  const api = await apiClient();
  for (let start = 0; start < reveals.length; start += 500) {
    const batch = reveals.slice(start, start + 500);
    const result = await api.reportOfflineReveals({ reveals: batch });
    await vault.settleOfflineReveals(batch.map((r) => r.idempotencyKey), result.ok ? null : result.error.code);
    if (!result.ok) return;
  }
}
