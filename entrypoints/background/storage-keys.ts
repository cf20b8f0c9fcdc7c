/**
 * Where each stored value lives (`local:` or `session:` plus its key) with its type and the
 * value it reads as when absent: the single list storage-items.ts defines the WXT items from.
 * No extension API is touched here, so Node code (the end-to-end tests) can name the same places.
 * The keys are the ones earlier versions used, so stored values carry over as they are.
 */
import type { Locale } from '../../lib/api/contract.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../utils/client/messages.ts';
import type { PkceRequest, StoredTokens } from '../../utils/client/oauth.ts';

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

/** A key the background revealed to a portal tab (its SHA-256 only), until its shown window ends. */
export type PanelReveal = { tabId: number; sha256: string; until: number };

/** A sign-in under way: the PKCE secret and where its answer must come from. */
export type PendingSignIn = PkceRequest & { serviceUrl: string; redirectUri: string };

export type StoragePlace<V> = { key: `local:${string}` | `session:${string}`; fallback: V };

const place = <V>(key: StoragePlace<V>['key'], fallback: V): StoragePlace<V> => ({ key, fallback });

export const NEVER_SYNCED: SyncStatus = { online: false, lastSyncAt: null, cursor: null };

/** Stored settings may predate a field; readers merge them over `DEFAULT_SETTINGS`. */
export const SETTINGS = place<Partial<Settings>>('local:settings', DEFAULT_SETTINGS);
export const TOKENS = place<StoredTokens | null>('local:tokens', null);
export const ACCOUNT = place<AccountInfo | null>('local:account', null);
export const SYNC_STATUS = place<SyncStatus>('local:syncStatus', NEVER_SYNCED);
/** The unlocked vault's data key (base64), so a service-worker restart stays unlocked. Never in storage.local. */
export const VAULT_SESSION = place<string | null>('session:vaultSession', null);
export const PENDING_SIGN_IN = place<PendingSignIn | null>('session:pkce', null);
/** Keys revealed to portal panels, by hash: a panel may have the clipboard cleared only of these. */
export const PANEL_REVEALS = place<PanelReveal[]>('session:panelReveals', []);
