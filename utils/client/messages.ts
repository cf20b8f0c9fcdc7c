/**
 * The messages the popup, options page, callback page and portal panels send to the
 * background (the only part that talks to the network and the vault), with their answers.
 * `sendMessage` is the one typed entry point the UI uses.
 */
import type { Device, KeyKind, KeyStatus, Locale, Operation, RevealedKey } from '../../lib/api/contract.ts';
import type { ClientErrorCode } from './api-client.ts';
import type { MessageTable } from '../../lib/i18n/extension/table.ts';
import { CLIPBOARD_CLEAR_SECONDS } from '../../lib/keys/exposure.ts';

export type VaultState = 'none' | 'locked' | 'unlocked';

export type Settings = {
  serviceUrl: string;
  autoLockMinutes: number;
  clipboardSeconds: number;
  /** null: follow the browser's language. */
  locale: Locale | null;
};

export const DEFAULT_SETTINGS: Settings = {
  serviceUrl: 'http://127.0.0.1:8787',
  autoLockMinutes: 15,
  clipboardSeconds: CLIPBOARD_CLEAR_SECONDS,
  locale: null,
};

/** A device as the vault caches it: metadata only, readable without unlocking. */
export type CachedDevice = {
  id: string;
  name: string;
  platform: Device['platform'];
  ownership: Device['ownership'];
  keyKind: KeyKind;
  keyStatus: KeyStatus;
  lastCheckinAt: string | null;
  updatedAt: string;
  volumes: { id: string; name: string }[];
};

export type ExtensionState = {
  signedIn: boolean;
  account: { name: string; email: string } | null;
  supportContact: string | null;
  serviceUrl: string;
  online: boolean;
  vault: VaultState;
  lastSyncAt: string | null;
  locale: Locale;
};

export type FailureCode = ClientErrorCode | 'not_signed_in' | 'no_vault' | 'locked' | 'wrong_passphrase' | 'weak_passphrase' | 'not_cached' | 'bad_state';
/** `retryAfterMs`: for a lockout (`rate_limited`), how long until trying again is allowed. */
export type Failure = { ok: false; error: { code: FailureCode; message: string; retryAfterMs?: number } };
export type Done<T = Record<never, never>> = ({ ok: true } & T) | Failure;

export type RevealOutcome = { key: RevealedKey; offline: boolean };

export type MessageMap = {
  'state.get': { request: Record<never, never>; response: ExtensionState };
  'devices.cached': { request: Record<never, never>; response: { devices: CachedDevice[] } };
  'sync.now': { request: Record<never, never>; response: Done };
  'settings.get': { request: Record<never, never>; response: Settings };
  'settings.set': { request: { settings: Partial<Settings> }; response: Done<{ settings: Settings }> };
  /** Prepares a sign-in (the background keeps the PKCE secret) and answers the consent page's address. */
  'auth.signIn': { request: Record<never, never>; response: Done<{ authorizeUrl: string }> };
  'auth.callback': { request: { code: string; state: string }; response: Done };
  'auth.signOut': { request: Record<never, never>; response: Done };
  'vault.setup': { request: { passphrase: string }; response: Done };
  'vault.change': { request: { oldPassphrase: string; newPassphrase: string }; response: Done };
  'vault.unlock': { request: { passphrase: string }; response: Done };
  'vault.lock': { request: Record<never, never>; response: Done };
  /** Forgotten passphrase: wipes the cached keys and the passphrase; only for a signed-in extension. */
  'vault.reset': { request: Record<never, never>; response: Done };
  'key.reveal': { request: { deviceId: string; volumeId?: string }; response: Done<RevealOutcome> };
  'key.store': { request: { deviceId: string; volumeId?: string; key: string; confirmKey: string }; response: Done<{ operation: Operation }> };
  'device.get': { request: { deviceId: string }; response: Done<{ device: Device }> };
  'device.checkAccess': { request: { deviceId: string }; response: Done };
  'clipboard.copied': { request: { sha256: string }; response: Done };
  /** A portal panel copied the key it was shown: clear the clipboard of it later (only that key, only in its shown window). */
  'panel.copied': { request: { sha256: string }; response: Done<{ clearAfterSeconds: number }> };
  /** One locale's messages, for the portal panels (a content script cannot read extension files). */
  'i18n.table': { request: { locale: Locale }; response: Done<{ table: MessageTable }> };
  /** From the offscreen document (Chrome): no clipboard clearing is pending any more, it may be closed. */
  'offscreen.done': { request: Record<never, never>; response: Done };
};

/** From the background to the offscreen document (Chrome): clear the clipboard later if it still holds this text. */
export type OffscreenRequest = { target: 'offscreen'; type: 'clipboard.clearLater'; sha256: string; delayMs: number };

export type MessageType = keyof MessageMap;
export type Message<K extends MessageType = MessageType> = { type: K } & MessageMap[K]['request'];
export type Reply<K extends MessageType> = MessageMap[K]['response'];

/** Broadcast by the background while the vault key is being derived (0…1). */
export type ProgressEvent = { type: 'vault.progress'; fraction: number };

type Sender = (message: unknown) => Promise<unknown>;

export function createMessenger(send: Sender) {
  return async function sendMessage<K extends MessageType>(type: K, request: MessageMap[K]['request']): Promise<Reply<K>> {
    return (await send({ type, ...request })) as Reply<K>;
  };
}

export function failure(code: FailureCode, message: string): Failure {
  return { ok: false, error: { code, message } };
}
