/**
 * Unlock, lock and auto-lock of the vault. The unlocked session is mirrored in
 * storage.session (memory only, trusted contexts only, cleared when the browser closes),
 * so a service-worker restart keeps the user unlocked; an alarm locks after the idle time.
 */
import { browser } from 'wxt/browser';
import type { Done, ProgressEvent } from '../../utils/client/messages.ts';
import { MIN_PASSPHRASE_LENGTH } from '../../utils/vault/passphrase.ts';
import type { VaultPort } from './vault-adapter.ts';
import { vaultFailure } from './vault-failure.ts';
import { readSettings } from './settings.ts';
import { vaultSessionItem } from './storage-items.ts';

export const AUTOLOCK_ALARM = 'keyward-autolock';

function broadcastProgress(fraction: number): void {
  const event: ProgressEvent = { type: 'vault.progress', fraction };
  browser.runtime.sendMessage(event).catch(() => undefined);
}

export function createVaultSession(vault: VaultPort) {
  let resumed: Promise<void> | null = null;

  /** Restores an unlocked session after the service worker restarted (once per worker). */
  function resume(): Promise<void> {
    resumed ??= (async () => {
      const vaultSession = await vaultSessionItem.getValue();
      if (vaultSession && !(await vault.resumeSession(vaultSession))) await vaultSessionItem.removeValue();
    })();
    return resumed;
  }

  async function rememberSession(): Promise<void> {
    const session = await vault.exportSession();
    if (session) await vaultSessionItem.setValue(session);
    await touch();
  }

  /** Restarts the auto-lock countdown (called whenever the unlocked vault is used). */
  async function touch(): Promise<void> {
    const { autoLockMinutes } = await readSettings();
    await browser.alarms.create(AUTOLOCK_ALARM, { delayInMinutes: autoLockMinutes });
  }

  async function state() {
    await resume();
    return vault.state();
  }

  async function setup(passphrase: string): Promise<Done> {
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) return vaultFailure('passphrase_too_short', null);
    if ((await state()) !== 'none') return vaultFailure('already_initialized', null);
    const result = await vault.create(passphrase, broadcastProgress);
    if (result.ok) await rememberSession();
    return result;
  }

  async function unlock(passphrase: string): Promise<Done> {
    const current = await state();
    if (current === 'none') return vaultFailure('not_initialized', null);
    if (current === 'unlocked') return { ok: true };
    const result = await vault.unlock(passphrase, broadcastProgress);
    if (result.ok) await rememberSession();
    return result;
  }

  async function change(oldPassphrase: string, newPassphrase: string): Promise<Done> {
    if (newPassphrase.length < MIN_PASSPHRASE_LENGTH) return vaultFailure('passphrase_too_short', null);
    if ((await state()) === 'none') return vaultFailure('not_initialized', null);
    const result = await vault.changePassphrase(oldPassphrase, newPassphrase, broadcastProgress);
    if (result.ok) await rememberSession();
    return result;
  }

  async function lock(): Promise<Done> {
    // A lock that wakes the worker (the auto-lock alarm) must not be undone by a resume still under way.
    await resume();
    await vault.lock();
    await vaultSessionItem.removeValue();
    await browser.alarms.clear(AUTOLOCK_ALARM);
    return { ok: true };
  }

  /** Forgotten passphrase: locks, then deletes the cached keys and the passphrase; a new one can be set. */
  async function reset(): Promise<Done> {
    await lock();
    await vault.reset();
    return { ok: true };
  }

  return { state, setup, unlock, change, lock, reset, touch, resume };
}

export type VaultSession = ReturnType<typeof createVaultSession>;
