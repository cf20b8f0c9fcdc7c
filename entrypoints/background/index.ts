/**
 * The extension's background: only wires things together — the message router, the sync
 * and auto-lock alarms, the portal content-script registration and clipboard clearing.
 */
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { installVaultBenchHook } from '../../utils/vault/bench-hook.ts';
import { onSignedOut } from './auth.ts';
import { registerPortalScript } from './portal-script.ts';
import { failure } from '../../utils/client/messages.ts';
import { createHandlers, dispatch, isMessage } from './router.ts';
import { isAllowedSender, portalTabOf, type MessageSender, type SenderContext } from './sender-policy.ts';
import { readSettings } from './settings.ts';
import { SYNC_ALARM, SYNC_PERIOD_MINUTES, syncNow } from './sync.ts';
import { openVaultPort } from './vault-adapter.ts';
import { AUTOLOCK_ALARM, createVaultSession } from './vault-session.ts';

async function senderContext(): Promise<SenderContext> {
  return {
    extensionId: browser.runtime.id,
    extensionBaseUrl: browser.runtime.getURL('/'),
    serviceOrigin: new URL((await readSettings()).serviceUrl).origin,
  };
}

export default defineBackground(() => {
  const vault = openVaultPort();
  const session = createVaultSession(vault);
  const handlers = createHandlers(vault, session);
  onSignedOut(async () => {
    await session.lock();
    await vault.forgetDevices();
  });
  // Only `wxt build --mode bench` builds it in; a production build drops it (and its database name) entirely.
  if (import.meta.env.MODE === 'bench') installVaultBenchHook();

  browser.runtime.onMessage.addListener((message: unknown, sender: MessageSender) => {
    if (!isMessage(message, handlers)) return undefined;
    return senderContext().then((context) =>
      isAllowedSender(message, sender, context)
        ? dispatch(handlers, message, { portalTab: portalTabOf(sender, context) })
        : failure('forbidden', 'Not allowed from here.'));
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
