/**
 * Routes the typed UI messages (utils/client/messages.ts) to the background's modules.
 * Which sender may send which message is decided before dispatch, in sender-policy.ts:
 * extension pages everything but `auth.callback` (which the options page may also send, for
 * Firefox's sign-in); callback.html only `auth.callback`; the
 * portal content script only the panel messages, on the configured service origin, for the
 * device of the page it is mounted on. Handlers also learn the portal tab a message came from
 * (null for our own pages): a panel's reveal is remembered for that tab, and only that tab may
 * then have the clipboard cleared of that key.
 */
import { failure, type Failure, type Message, type MessageMap, type MessageType, type Reply } from '../../utils/client/messages.ts';
import { apiClient } from './api.ts';
import { finishSignIn, isSignedIn, signOut, startSignIn } from './auth.ts';
import { closeClipboardDocument, scheduleClipboardClear } from './clipboard.ts';
import { revealRecoveryKey, storeRecoveryKey } from './keys.ts';
import { isPanelReveal, rememberPanelReveal } from './panel-reveals.ts';
import { registerPortalScript } from './portal-script.ts';
import { effectiveLocale, readSettings, writeSettings } from './settings.ts';
import { accountItem } from './storage-items.ts';
import type { PortalTab } from './sender-policy.ts';
import { readSyncStatus } from './sync-status.ts';
import { saveLocaleChoice } from './language.ts';
import { messageTableFor } from './message-tables.ts';
import { syncNow, toCachedDevice } from './sync.ts';
import type { VaultPort } from './vault-adapter.ts';
import type { VaultSession } from './vault-session.ts';

/** Who sent a message, as far as handlers need it: the portal tab of a content script, or null. */
export type Caller = { portalTab: PortalTab | null };

/** A message from one of our own pages (the popup, options). */
export const EXTENSION_PAGE: Caller = { portalTab: null };

type Handlers = { [K in MessageType]: (message: Message<K>, caller: Caller) => Promise<Reply<K>> };

export function createHandlers(vault: VaultPort, session: VaultSession): Handlers {
  return {
    'state.get': async () => {
      const [settings, account, sync, vaultState, signedIn] = await Promise.all([
        readSettings(), accountItem.getValue(), readSyncStatus(), session.state(), isSignedIn(),
      ]);
      return {
        signedIn,
        account: account && { name: account.name, email: account.email },
        supportContact: account?.supportContact ?? null,
        serviceUrl: settings.serviceUrl,
        online: sync.online,
        vault: vaultState,
        lastSyncAt: sync.lastSyncAt,
        locale: effectiveLocale(settings, account),
      };
    },
    'devices.cached': async () => ({ devices: (await vault.listDevices()).map(toCachedDevice) }),
    'sync.now': () => syncNow(vault),
    'settings.get': () => readSettings(),
    'settings.set': async ({ settings }) => {
      try {
        const before = await readSettings();
        const next = await writeSettings(settings);
        // Tokens, account and cached devices belong to the old service: never send them to the new one.
        if (next.serviceUrl !== before.serviceUrl) await signOut();
        else if (settings.locale !== undefined) await saveLocaleChoice(next.locale);
        await registerPortalScript(next.serviceUrl);
        return { ok: true, settings: next };
      } catch {
        return failure('invalid_input', 'Check the settings.');
      }
    },
    'auth.signIn': () => startSignIn(),
    'auth.callback': async ({ code, state }) => {
      const done = await finishSignIn(code, state);
      if (done.ok) await syncNow(vault);
      return done;
    },
    'auth.signOut': async () => {
      await signOut();
      return { ok: true };
    },
    'vault.setup': ({ passphrase }) => session.setup(passphrase),
    'vault.change': ({ oldPassphrase, newPassphrase }) => session.change(oldPassphrase, newPassphrase),
    'vault.unlock': ({ passphrase }) => session.unlock(passphrase),
    'vault.lock': () => session.lock(),
    // Signing in is the proof of identity that stands in for the forgotten passphrase.
    'vault.reset': async () => ((await isSignedIn()) ? session.reset() : failure('not_signed_in', 'Sign in first.')),
    'key.reveal': async ({ deviceId, volumeId }, { portalTab }) => {
      const outcome = await revealRecoveryKey(vault, session, deviceId, volumeId);
      if (outcome.ok && portalTab) await rememberPanelReveal(portalTab, outcome.key);
      return outcome;
    },
    'key.store': ({ deviceId, volumeId, key, confirmKey }) => storeRecoveryKey(deviceId, key, confirmKey, volumeId),
    'device.get': async ({ deviceId }) => {
      const result = await (await apiClient()).getDevice(deviceId);
      if (!result.ok) return result;
      await vault.updateDevice(result.data);
      return { ok: true, device: result.data };
    },
    'device.checkAccess': async ({ deviceId }) => {
      const result = await (await apiClient()).checkAccess(deviceId);
      return result.ok ? { ok: true } : result;
    },
    'clipboard.copied': async ({ sha256 }) => {
      await scheduleClipboardClear(sha256);
      return { ok: true };
    },
    'panel.copied': async ({ sha256 }, { portalTab }) => {
      if (!portalTab || !(await isPanelReveal(portalTab, sha256))) return failure('forbidden', 'Not allowed from here.');
      return { ok: true, clearAfterSeconds: await scheduleClipboardClear(sha256) };
    },
    'offscreen.done': async () => {
      await closeClipboardDocument();
      return { ok: true };
    },
    'i18n.table': async ({ locale }) => ({ ok: true, table: await messageTableFor(locale) }),
  };
}

export function isMessage(value: unknown, handlers: Handlers): value is Message {
  if (typeof value !== 'object' || value === null || !('type' in value)) return false;
  const type = (value as { type: unknown }).type;
  return typeof type === 'string' && Object.hasOwn(handlers, type) && !('target' in value);
}

/** Runs the message's handler; a handler that throws (e.g. a malformed message) answers a plain failure, no internals. */
export async function dispatch(handlers: Handlers, message: Message, caller: Caller): Promise<MessageMap[MessageType]['response'] | Failure> {
  const handler = handlers[message.type] as (m: Message, c: Caller) => Promise<MessageMap[MessageType]['response']>;
  try {
    return await handler(message, caller);
  } catch {
    return failure('bad_state', 'The request could not be handled.');
  }
}
