/**
 * The background's sender policy: the popup and options may do everything, the OAuth
 * callback page only finish sign-in, and the portal content script only the panel actions,
 * on the configured portal origin, for the device of the page it is mounted on.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../utils/client/messages.ts';
import { isAllowedSender, portalPageDevice, type MessageSender } from '../../entrypoints/background/sender-policy.ts';

const context = {
  extensionId: 'abcdefghijklmnopabcdefghijklmnop',
  extensionBaseUrl: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop/',
  serviceOrigin: 'https://keys.example.org',
};
const popup: MessageSender = { id: context.extensionId, url: `${context.extensionBaseUrl}popup.html` };
const options: MessageSender = { id: context.extensionId, url: `${context.extensionBaseUrl}options.html` };
const callback: MessageSender = { id: context.extensionId, url: `${context.extensionBaseUrl}callback.html`, tab: {} };
const panelOn = (url: string, origin = new URL(url).origin): MessageSender => ({ id: context.extensionId, url, origin, tab: { id: 3 } });
const devicePage = panelOn('https://keys.example.org/devices/dev-1');

const reveal = (deviceId: string): Message => ({ type: 'key.reveal', deviceId });
const settingsSet: Message = { type: 'settings.set', settings: { serviceUrl: 'https://evil.example' } };
const allowed = (message: Message, sender: MessageSender) => isAllowedSender(message, sender, context);

describe('sender policy', () => {
  it('lets the popup and options page send everything, and only the options page (Firefox sign-in) the OAuth callback', () => {
    expect(allowed(settingsSet, popup)).toBe(true);
    expect(allowed({ type: 'vault.unlock', passphrase: 'p' }, popup)).toBe(true);
    expect(allowed(reveal('any-device'), popup)).toBe(true);
    expect(allowed({ type: 'auth.callback', code: 'c', state: 's' }, popup)).toBe(false);
    expect(allowed(settingsSet, options)).toBe(true);
    expect(allowed({ type: 'auth.callback', code: 'c', state: 's' }, options)).toBe(true);
  });

  it('lets callback.html only finish the sign-in', () => {
    expect(allowed({ type: 'auth.callback', code: 'c', state: 's' }, callback)).toBe(true);
    expect(allowed(settingsSet, callback)).toBe(false);
    expect(allowed(reveal('dev-1'), callback)).toBe(false);
  });

  it('lets the portal panel reveal, store and read only the device of its own page', () => {
    expect(allowed(reveal('dev-1'), devicePage)).toBe(true);
    expect(allowed({ type: 'key.store', deviceId: 'dev-1', key: 'k', confirmKey: 'k' }, panelOn('https://keys.example.org/devices/dev-1/keys'))).toBe(true);
    expect(allowed({ type: 'device.get', deviceId: 'dev-1' }, panelOn('https://keys.example.org/admin/devices/dev-1?rotated=1'))).toBe(true);
    expect(allowed({ type: 'state.get' }, devicePage)).toBe(true);
    expect(allowed({ type: 'i18n.table', locale: 'sv' }, devicePage)).toBe(true);
    expect(allowed(reveal('dev-2'), devicePage)).toBe(false);
    expect(allowed({ type: 'device.checkAccess', deviceId: 'dev-2' }, devicePage)).toBe(false);
    expect(allowed(reveal('dev-1'), panelOn('https://keys.example.org/devices'))).toBe(false);
  });

  it('never lets the portal panel do what only the popup or options may do', () => {
    for (const message of [
      settingsSet,
      { type: 'settings.get' },
      { type: 'auth.signOut' },
      { type: 'auth.signIn' },
      { type: 'auth.callback', code: 'c', state: 's' },
      { type: 'vault.unlock', passphrase: 'p' },
      { type: 'vault.change', oldPassphrase: 'p', newPassphrase: 'q' },
      { type: 'vault.lock' },
      { type: 'devices.cached' },
      { type: 'sync.now' },
      { type: 'clipboard.copied', sha256: '00' },
    ] satisfies Message[]) {
      expect(allowed(message, devicePage), message.type).toBe(false);
    }
  });

  it('lets only the portal panel in a tab’s top frame ask for its copied key to be cleared', () => {
    const copied: Message = { type: 'panel.copied', sha256: 'ab'.repeat(32) };
    expect(allowed(copied, { ...devicePage, frameId: 0 })).toBe(true);
    expect(allowed(copied, { ...devicePage, frameId: 1 })).toBe(false);
    expect(allowed(copied, devicePage)).toBe(false);
    expect(allowed(copied, popup)).toBe(false);
    expect(allowed(copied, { ...panelOn('https://evil.example/devices/dev-1'), frameId: 0 })).toBe(false);
  });

  it('refuses panels on another origin, other extensions and unknown contexts', () => {
    expect(allowed(reveal('dev-1'), panelOn('https://evil.example/devices/dev-1'))).toBe(false);
    expect(allowed(reveal('dev-1'), panelOn('http://keys.example.org/devices/dev-1'))).toBe(false);
    expect(allowed(reveal('dev-1'), { ...devicePage, origin: 'https://evil.example' })).toBe(false);
    expect(allowed(reveal('dev-1'), { ...devicePage, id: 'anotherextensionidanotherextens' })).toBe(false);
    expect(allowed(settingsSet, { ...popup, id: 'anotherextensionidanotherextens' })).toBe(false);
    expect(allowed(reveal('dev-1'), { id: context.extensionId, url: 'https://keys.example.org/devices/dev-1' })).toBe(false);
    expect(allowed({ type: 'state.get' }, { id: context.extensionId })).toBe(false);
    expect(allowed({ type: 'i18n.table', locale: 'sv' }, panelOn('https://evil.example/devices/dev-1'))).toBe(false);
  });

  it('reads the device id from portal device page URLs only', () => {
    expect(portalPageDevice('https://keys.example.org/devices/a%20b/reveal')).toBe('a b');
    expect(portalPageDevice('https://keys.example.org/admin/devices/x')).toBe('x');
    expect(portalPageDevice('https://keys.example.org/browsers')).toBeNull();
    expect(portalPageDevice('https://keys.example.org/devicesx/1')).toBeNull();
    expect(portalPageDevice('not a url')).toBeNull();
  });
});
