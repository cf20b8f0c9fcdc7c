/**
 * Every value the extension keeps in browser storage, each a typed WXT storage item at its place
 * in storage-keys.ts. storage.local (survives restarts): settings, sign-in tokens, account
 * details, sync status. storage.session (memory only, trusted contexts only): the unlocked
 * vault's session key, a pending sign-in's PKCE secret and the SHA-256 of keys shown in portal
 * panels. Never a recovery key or a passphrase.
 */
import { storage } from 'wxt/utils/storage';
import type { Settings } from '../../utils/client/messages.ts';
import type { StoredTokens } from '../../utils/client/oauth.ts';
import {
  ACCOUNT, PANEL_REVEALS, PENDING_SIGN_IN, SETTINGS, SYNC_STATUS, TOKENS, VAULT_SESSION,
  type AccountInfo, type PanelReveal, type PendingSignIn, type SyncStatus,
} from './storage-keys.ts';

export type { AccountInfo, PanelReveal, PendingSignIn, SyncStatus };

export const settingsItem = storage.defineItem<Partial<Settings>>(SETTINGS.key, { fallback: SETTINGS.fallback });
export const tokensItem = storage.defineItem<StoredTokens>(TOKENS.key);
export const accountItem = storage.defineItem<AccountInfo>(ACCOUNT.key);
export const syncStatusItem = storage.defineItem<SyncStatus>(SYNC_STATUS.key, { fallback: SYNC_STATUS.fallback });
export const vaultSessionItem = storage.defineItem<string>(VAULT_SESSION.key);
export const pendingSignInItem = storage.defineItem<PendingSignIn>(PENDING_SIGN_IN.key);
export const panelRevealsItem = storage.defineItem<PanelReveal[]>(PANEL_REVEALS.key, { fallback: PANEL_REVEALS.fallback });
