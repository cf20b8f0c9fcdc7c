/**
 * Every value the extension keeps in browser storage, each a typed WXT storage item with its
 * fallback. storage.local (survives restarts): settings, sign-in tokens, account details, sync
 * status. storage.session (memory only, trusted contexts only): the unlocked vault's session
 * key and a pending sign-in's PKCE secret. Never a recovery key or a passphrase.
 * The storage keys are the ones earlier versions used, so stored values carry over as they are.
 */
import { storage } from 'wxt/utils/storage';
import type { Locale } from '../../lib/api/contract.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/client/messages.ts';
import type { PkceRequest, StoredTokens } from '../../lib/client/oauth.ts';

/** Account details shown in the UI (name, support contact): not secret. */
export type AccountInfo = {
  name: string;
  email: string;
  supportContact: string;
  /** The language the person picked on the portal; null until they pick one. */
  locale: Locale | null;
  /** Organisation policy: keep revealed keys in the vault (`keys`) or only statuses (`metadata`). */
  offlineCache: 'keys' | 'metadata';
};

/** The last sync's outcome and the service's delta cursor (the only sync cursor kept). */
export type SyncStatus = { online: boolean; lastSyncAt: string | null; lastFullSyncAt?: string | null; cursor: string | null };

export const NEVER_SYNCED: SyncStatus = { online: false, lastSyncAt: null, cursor: null };

/** A sign-in under way: the PKCE secret and where its answer must come from. */
export type PendingSignIn = PkceRequest & { serviceUrl: string; redirectUri: string };

/** Stored settings may predate a field; readers merge them over `DEFAULT_SETTINGS`. */
export const settingsItem = storage.defineItem<Partial<Settings>>('local:settings', { fallback: DEFAULT_SETTINGS });
export const tokensItem = storage.defineItem<StoredTokens>('local:tokens');
export const accountItem = storage.defineItem<AccountInfo>('local:account');
export const syncStatusItem = storage.defineItem<SyncStatus>('local:syncStatus', { fallback: NEVER_SYNCED });
/** The unlocked vault's data key (base64), so a service-worker restart stays unlocked. */
export const vaultSessionItem = storage.defineItem<string>('session:vaultSession');
export const pendingSignInItem = storage.defineItem<PendingSignIn>('session:pkce');
