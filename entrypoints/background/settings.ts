/** The extension's settings (storage-items.ts), checked and clamped on the way in, and the language they choose. */
import { browser } from 'wxt/browser';
import { Locale } from '../../lib/api/contract.ts';
import { pickLocale } from '../../lib/i18n/locales.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../utils/client/messages.ts';
import { settingsItem, type AccountInfo } from './storage-items.ts';

export async function readSettings(): Promise<Settings> {
  return { ...DEFAULT_SETTINGS, ...(await settingsItem.getValue()) };
}

export async function writeSettings(change: Partial<Settings>): Promise<Settings> {
  const next = { ...(await readSettings()), ...sanitize(change) };
  await settingsItem.setValue(next);
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
