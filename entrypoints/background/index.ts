/**
 * The extension's background: only wires things together — the message router, the sync
 * and auto-lock alarms, the portal content-script registration and clipboard clearing.
 */
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { installVaultBenchHook } from '../../lib/vault/index.ts';
import { closeClipboardDocument } from './clipboard.ts';
import { registerPortalScript } from './portal-script.ts';
import { createHandlers, dispatch, isMessage } from './router.ts';
import { readSettings } from './settings.ts';
import { SYNC_ALARM, SYNC_PERIOD_MINUTES, syncNow } from './sync.ts';
import { openVaultPort } from './vault-adapter.ts';
import { AUTOLOCK_ALARM, createVaultSession } from './vault-session.ts';

/** What a portal panel (content script, untrusted page origin) may ask for. */
const PANEL_MESSAGES = new Set(['state.get', 'key.reveal', 'key.store', 'device.get', 'device.checkAccess']);

function isExtensionPage(url: string | undefined): boolean {
  return url !== undefined && url.startsWith(browser.runtime.getURL('/'));
}

export default defineBackground(() => {
  const vault = openVaultPort();
  const session = createVaultSession(vault);
  const handlers = createHandlers(vault, session);
  installVaultBenchHook();

  browser.runtime.onMessage.addListener((message: unknown, sender: { url?: string; tab?: unknown }) => {
    if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'offscreen.done') {
      return closeClipboardDocument().then(() => ({ ok: true }));
    }
    if (!isMessage(message, handlers)) return undefined;
    if (!isExtensionPage(sender.url) && !PANEL_MESSAGES.has(message.type)) return undefined;
    return dispatch(handlers, message);
  });

  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === SYNC_ALARM) void syncNow(vault, 'scheduled');
    if (alarm.name === AUTOLOCK_ALARM) void session.lock();
  });

  browser.idle.onStateChanged.addListener((state) => {
    if (state === 'locked') void session.lock();
  });

  async function ensureScheduled(): Promise<void> {
    const existing = await browser.alarms.get(SYNC_ALARM);
    if (!existing) await browser.alarms.create(SYNC_ALARM, { periodInMinutes: SYNC_PERIOD_MINUTES });
    await registerPortalScript((await readSettings()).serviceUrl);
  }

  browser.runtime.onInstalled.addListener(() => void ensureScheduled());
  browser.runtime.onStartup.addListener(() => {
    void session.lock();
    void ensureScheduled();
  });
  void ensureScheduled();
  void session.resume();
});
