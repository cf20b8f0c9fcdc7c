/**
 * Sync with the escrow service: refreshes the account, caches device metadata in the vault
 * (so statuses show offline and while locked) and reports queued offline reveals.
 * Runs on the sync alarm (a delta from the server's cursor, and a full sync every half hour
 * so removed devices and time-derived statuses catch up), after sign-in and on "Sync now" (full).
 */
import type { Device } from '../../lib/api/contract.ts';
import { failure, type CachedDevice, type Done } from '../../utils/client/messages.ts';
import { reportOfflineReveals } from '../../utils/client/offline-reports.ts';
import { apiClient } from './api.ts';
import { isSignedIn } from './auth.ts';
import { accountItem } from './storage-items.ts';
import { readSyncStatus, updateSyncStatus } from './sync-status.ts';
import { reconcileLocale } from './language.ts';
import type { VaultPort } from './vault-adapter.ts';

export const SYNC_ALARM = 'keyward-sync';
export const SYNC_PERIOD_MINUTES = 5;
const FULL_SYNC_EVERY_MS = 30 * 60_000;

export type SyncMode = 'full' | 'scheduled';

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

export function syncNow(vault: VaultPort, mode: SyncMode = 'full'): Promise<Done> {
  running ??= runSync(vault, mode).finally(() => {
    running = null;
  });
  return running;
}

async function runSync(vault: VaultPort, mode: SyncMode): Promise<Done> {
  if (!(await isSignedIn())) return failure('not_signed_in', 'Sign in first.');
  const api = await apiClient();
  const me = await api.me();
  if (!me.ok) {
    await updateSyncStatus({ online: me.error.code !== 'network' });
    return me;
  }
  const { user, org } = me.data;
  const offlineCache = org.offlineCache ?? 'keys';
  const previous = await accountItem.getValue();
  await accountItem.setValue({ name: user.name, email: user.email, supportContact: org.supportContact, locale: user.locale, offlineCache });
  await reconcileLocale(api, previous, user.locale);
  if (offlineCache === 'metadata') await vault.forgetKeys();
  const status = await readSyncStatus();
  const fullDue = !status.cursor || !status.lastFullSyncAt || Date.now() - Date.parse(status.lastFullSyncAt) > FULL_SYNC_EVERY_MS;
  const full = mode === 'full' || fullDue;
  const list = await api.listDevices(full ? undefined : status.cursor ?? undefined);
  if (!list.ok) {
    await updateSyncStatus({ online: list.error.code !== 'network' });
    return list;
  }
  await vault.saveDevices(list.data.devices, { full });
  const now = new Date().toISOString();
  await updateSyncStatus({ online: true, lastSyncAt: now, cursor: list.data.cursor, ...(full ? { lastFullSyncAt: now } : {}) });
  await flushOfflineReveals(vault);
  return { ok: true };
}

async function flushOfflineReveals(vault: VaultPort): Promise<void> {
  const reveals = await vault.pendingOfflineReveals();
  if (reveals.length === 0) return;
  const api = await apiClient();
  await reportOfflineReveals(reveals, {
    send: (report) => api.reportOfflineReveals(report),
    settle: (idempotencyKeys, error) => vault.settleOfflineReveals(idempotencyKeys, error),
  });
}
