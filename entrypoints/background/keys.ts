/**
 * Reveal and store recovery keys for the popup and the portal panels. A reveal goes to the
 * service (which audits it); the revealed key is cached encrypted in the unlocked vault
 * (unless the organisation's `offlineCache` policy is `metadata`).
 * With no network, a cached key is shown from the vault and the reveal is queued for the
 * service's audit log.
 */
import { failure, type Done, type RevealOutcome } from '../../utils/client/messages.ts';
import type { Operation } from '../../lib/api/contract.ts';
import { apiClient } from './api.ts';
import { isSignedIn } from './auth.ts';
import { accountItem } from './storage-items.ts';
import { updateSyncStatus } from './sync-status.ts';
import type { VaultPort } from './vault-adapter.ts';
import type { VaultSession } from './vault-session.ts';

export async function revealRecoveryKey(vault: VaultPort, session: VaultSession, deviceId: string, volumeId?: string): Promise<Done<RevealOutcome>> {
  if (!(await isSignedIn())) return failure('not_signed_in', 'Sign in first.');
  const api = await apiClient();
  const result = await api.revealKey(deviceId, volumeId ? { volumeId } : {});
  const unlocked = (await session.state()) === 'unlocked';
  if (result.ok) {
    await updateSyncStatus({ online: true });
    if (unlocked && (await accountItem.getValue())?.offlineCache !== 'metadata') {
      // The reveal is done and audited: show the key even if caching it fails (e.g. the vault just locked).
      await vault.saveRevealedKey(result.data).then(() => session.touch(), () => undefined);
    }
    return { ok: true, key: result.data, offline: false };
  }
  if (result.error.code !== 'network') return result;
  await updateSyncStatus({ online: false });
  if (!unlocked) return (await session.state()) === 'none' ? result : failure('locked', 'Unlock the vault to see saved keys offline.');
  const cached = await vault.readCachedKey(deviceId, volumeId);
  if (!cached) return failure('not_cached', 'This key is not saved on this computer.');
  const at = new Date().toISOString();
  await vault.queueOfflineReveal({ deviceId, volumeId: cached.volumeId, version: cached.version, at, idempotencyKey: crypto.randomUUID() });
  await session.touch();
  return { ok: true, key: { ...cached, revealedAt: at }, offline: true };
}

export async function storeRecoveryKey(deviceId: string, key: string, confirmKey: string, volumeId?: string): Promise<Done<{ operation: Operation }>> {
  if (!(await isSignedIn())) return failure('not_signed_in', 'Sign in first.');
  const api = await apiClient();
  const result = await api.storeKey(deviceId, { key, confirmKey, volumeId, idempotencyKey: crypto.randomUUID() });
  return result.ok ? { ok: true, operation: result.data } : result;
}
