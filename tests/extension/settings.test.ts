/**
 * The background's settings and storage items: defaults, checks on the way in, the language
 * choice, and values stored by earlier versions (same storage keys) read as they are, so an
 * update neither signs anyone out nor loses a setting.
 */
import { fakeBrowser, resetExtension, setUiLanguage } from './fake-extension.ts';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../utils/client/messages.ts';
import { isSignedIn } from '../../entrypoints/background/auth.ts';
import { effectiveLocale, readSettings, writeSettings } from '../../entrypoints/background/settings.ts';
import { accountItem, settingsItem, syncStatusItem, tokensItem, vaultSessionItem } from '../../entrypoints/background/storage-items.ts';
import { readSyncStatus, updateSyncStatus } from '../../entrypoints/background/sync-status.ts';

beforeEach(resetExtension);

describe('settings', () => {
  it('are the defaults until something is saved', async () => {
    expect(await readSettings()).toEqual(DEFAULT_SETTINGS);
    expect(await fakeBrowser.storage.local.get(null)).toEqual({});
  });

  it('keep only the service origin, clamp the numbers and check the language', async () => {
    const saved = await writeSettings({ serviceUrl: 'https://escrow.example.com/some/path?x=1', autoLockMinutes: 0.4, clipboardSeconds: 100_000, locale: 'ja' });
    expect(saved).toEqual({ serviceUrl: 'https://escrow.example.com', autoLockMinutes: 1, clipboardSeconds: 600, locale: 'ja' });
    expect(await readSettings()).toEqual(saved);
    expect(await writeSettings({ autoLockMinutes: Number.NaN })).toMatchObject({ autoLockMinutes: 1, serviceUrl: 'https://escrow.example.com' });
    expect(await writeSettings({ locale: null })).toMatchObject({ locale: null });
  });

  it('refuse a service URL that is not http(s), changing nothing', async () => {
    await writeSettings({ serviceUrl: 'https://escrow.example.com' });
    await expect(writeSettings({ serviceUrl: 'javascript:alert(1)' })).rejects.toThrow();
    await expect(writeSettings({ serviceUrl: 'not a url' })).rejects.toThrow();
    expect((await readSettings()).serviceUrl).toBe('https://escrow.example.com');
  });

  it('choose the language: the options page’s, else the portal account’s, else the browser’s', () => {
    setUiLanguage('nl-BE');
    expect(effectiveLocale({ ...DEFAULT_SETTINGS, locale: 'da' }, { locale: 'sv' })).toBe('da');
    expect(effectiveLocale(DEFAULT_SETTINGS, { locale: 'sv' })).toBe('sv');
    expect(effectiveLocale(DEFAULT_SETTINGS, { locale: null })).toBe('nl');
    expect(effectiveLocale(DEFAULT_SETTINGS, null)).toBe('nl');
    setUiLanguage('fi-FI');
    expect(effectiveLocale(DEFAULT_SETTINGS, null)).toBe('en');
  });
});

describe('values stored by an earlier version', () => {
  it('are read under the same keys: settings (even partial), tokens, account and sync status', async () => {
    const tokens = { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: Date.now() + 60 * 60_000 };
    const account = { name: 'Astrid Lund', email: 'astrid@example.com', supportContact: 'it@example.com', locale: 'sv', offlineCache: 'keys' };
    const syncStatus = { online: true, lastSyncAt: '2026-11-20T10:00:00.000Z', lastFullSyncAt: '2026-11-20T10:00:00.000Z', cursor: 'cursor-41' };
    await fakeBrowser.storage.local.set({ settings: { serviceUrl: 'https://escrow.example.com', autoLockMinutes: 5 }, tokens, account, syncStatus });
    await fakeBrowser.storage.session.set({ vaultSession: 'c2Vzc2lvbg==' });

    expect(await readSettings()).toEqual({ ...DEFAULT_SETTINGS, serviceUrl: 'https://escrow.example.com', autoLockMinutes: 5 });
    expect(await isSignedIn()).toBe(true);
    expect(await tokensItem.getValue()).toEqual(tokens);
    expect(await accountItem.getValue()).toEqual(account);
    expect(await readSyncStatus()).toEqual(syncStatus);
    expect(await vaultSessionItem.getValue()).toBe('c2Vzc2lvbg==');
  });

  it('the items write back under those keys, so an older version reading them still finds them', async () => {
    await writeSettings({ clipboardSeconds: 45 });
    await updateSyncStatus({ online: true, cursor: 'c-2' });
    expect(await fakeBrowser.storage.local.get(null)).toEqual({
      settings: { ...DEFAULT_SETTINGS, clipboardSeconds: 45 },
      syncStatus: { online: true, lastSyncAt: null, cursor: 'c-2' },
    });
    expect([settingsItem.key, tokensItem.key, accountItem.key, syncStatusItem.key, vaultSessionItem.key])
      .toEqual(['local:settings', 'local:tokens', 'local:account', 'local:syncStatus', 'session:vaultSession']);
  });
});

describe('sync status', () => {
  it('starts as never synced and merges each change into what is kept', async () => {
    expect(await readSyncStatus()).toEqual({ online: false, lastSyncAt: null, cursor: null });
    await updateSyncStatus({ online: true, lastSyncAt: '2026-11-20T10:00:00.000Z', cursor: 'c1' });
    await updateSyncStatus({ online: false });
    expect(await readSyncStatus()).toEqual({ online: false, lastSyncAt: '2026-11-20T10:00:00.000Z', cursor: 'c1' });
  });
});
