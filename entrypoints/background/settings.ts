/** The extension's settings and sign-in tokens in storage.local (never keys or passphrases). */
import { browser } from 'wxt/browser';
import { Locale } from '../../lib/api/contract.ts';
import { pickLocale } from '../../lib/i18n/locales.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../lib/client/messages.ts';
import type { StoredTokens } from '../../lib/client/oauth.ts';

export async function readSettings(): Promise<Settings> {
  const { settings } = await browser.storage.local.get('settings');
  return { ...DEFAULT_SETTINGS, ...(settings as Partial<Settings> | undefined) };
}

export async function writeSettings(change: Partial<Settings>): Promise<Settings> {
  const next = { ...(await readSettings()), ...sanitize(change) };
  await browser.storage.local.set({ settings: next });
  return next;
}

function sanitize(change: Partial<Settings>): Partial<Settings> {
  const clean: Partial<Settings> = {};
  if (change.serviceUrl !== undefined) clean.serviceUrl = serviceOrigin(change.serviceUrl);
  if (change.autoLockMinutes !== undefined) clean.autoLockMinutes = clamp(Math.round(change.autoLockMinutes), 1, 24 * 60);
  if (change.clipboardSeconds !== undefined) clean.clipboardSeconds = clamp(Math.round(change.clipboardSeconds), 5, 600);
  if (change.locale !== undefined) clean.locale = change.locale === null ? null : Locale.parse(change.locale);
  return clean;
}

/** The origin of an http(s) service URL; anything else throws. */
function serviceOrigin(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('The service URL must be http(s).');
  return url.origin;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number.isFinite(n) ? n : min));
}

/**
 * The extension's language: the one picked in its options, else the one the person picked on
 * the portal (the account's, from the last sync), else the browser's UI language.
 */
export function effectiveLocale(settings: Settings, account: Pick<AccountInfo, 'locale'> | null): Locale {
  return settings.locale ?? account?.locale ?? pickLocale(browser.i18n.getUILanguage());
}

export async function readTokens(): Promise<StoredTokens | null> {
  const { tokens } = await browser.storage.local.get('tokens');
  return (tokens as StoredTokens | undefined) ?? null;
}

export async function writeTokens(tokens: StoredTokens | null): Promise<void> {
  if (tokens) await browser.storage.local.set({ tokens });
  else await browser.storage.local.remove('tokens');
}

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

export async function readAccount(): Promise<AccountInfo | null> {
  const { account } = await browser.storage.local.get('account');
  return (account as AccountInfo | undefined) ?? null;
}

export async function writeAccount(account: AccountInfo | null): Promise<void> {
  if (account) await browser.storage.local.set({ account });
  else await browser.storage.local.remove('account');
}

export type SyncStatus = { online: boolean; lastSyncAt: string | null; lastFullSyncAt?: string | null; cursor: string | null };

export async function readSyncStatus(): Promise<SyncStatus> {
  const { syncStatus } = await browser.storage.local.get('syncStatus');
  return (syncStatus as SyncStatus | undefined) ?? { online: false, lastSyncAt: null, cursor: null };
}

export async function writeSyncStatus(change: Partial<SyncStatus>): Promise<void> {
  await browser.storage.local.set({ syncStatus: { ...(await readSyncStatus()), ...change } });
}
