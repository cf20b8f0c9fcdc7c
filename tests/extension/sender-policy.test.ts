/** Which context may send the background which message (entrypoints/background/sender-policy.ts). */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../utils/client/messages.ts';
import { isAllowedSender, portalPageDevice, portalTabOf, type MessageSender, type SenderContext } from '../../entrypoints/background/sender-policy.ts';

const context: SenderContext = { extensionId: 'ext-id', extensionBaseUrl: 'chrome-extension://ext-id/', serviceOrigin: 'https://escrow.example.com' };
const page = (path: string): MessageSender => ({ id: 'ext-id', url: `chrome-extension://ext-id/${path}` });
const portal = (path: string, origin = 'https://escrow.example.com'): MessageSender => ({ id: 'ext-id', url: `${origin}${path}`, origin, tab: { id: 7 } });

const stateGet: Message = { type: 'state.get' };
const settingsSet: Message = { type: 'settings.set', settings: { serviceUrl: 'https://evil.example' } };
const callback: Message = { type: 'auth.callback', code: 'c', state: 's' };
const offscreenDone: Message = { type: 'offscreen.done' };
const reveal = (deviceId: string): Message => ({ type: 'key.reveal', deviceId });

describe('sender policy', () => {
  it('extension pages may send everything but the sign-in callback, which the options page may also send', () => {
    expect(isAllowedSender(settingsSet, page('popup.html'), context)).toBe(true);
    expect(isAllowedSender(reveal('d1'), page('popup.html'), context)).toBe(true);
    expect(isAllowedSender(callback, page('popup.html'), context)).toBe(false);
    expect(isAllowedSender(callback, page('options.html'), context)).toBe(true);
  });

  it('callback.html may send only the sign-in callback', () => {
    expect(isAllowedSender(callback, page('callback.html'), context)).toBe(true);
    expect(isAllowedSender(stateGet, page('callback.html'), context)).toBe(false);
    expect(isAllowedSender(settingsSet, page('callback.html'), context)).toBe(false);
  });

  it('offscreen.html may send only offscreen.done, and no other page may send it', () => {
    expect(isAllowedSender(offscreenDone, page('offscreen.html'), context)).toBe(true);
    expect(isAllowedSender(stateGet, page('offscreen.html'), context)).toBe(false);
    expect(isAllowedSender(settingsSet, page('offscreen.html'), context)).toBe(false);
    expect(isAllowedSender(offscreenDone, page('popup.html'), context)).toBe(false);
    expect(isAllowedSender(offscreenDone, page('options.html'), context)).toBe(false);
    expect(isAllowedSender(offscreenDone, portal('/devices/d1'), context)).toBe(false);
  });

  it('the portal content script may send panel messages about its own page’s device, on the service origin only', () => {
    expect(isAllowedSender(reveal('d1'), portal('/devices/d1'), context)).toBe(true);
    expect(isAllowedSender(reveal('d1'), portal('/admin/devices/d1/history'), context)).toBe(true);
    expect(isAllowedSender(stateGet, portal('/devices/d1'), context)).toBe(true);
    expect(isAllowedSender(reveal('d2'), portal('/devices/d1'), context)).toBe(false);
    expect(isAllowedSender(settingsSet, portal('/devices/d1'), context)).toBe(false);
    expect(isAllowedSender({ type: 'vault.reset' }, portal('/devices/d1'), context)).toBe(false);
    expect(isAllowedSender(reveal('d1'), portal('/devices/d1', 'https://old-escrow.example.com'), context)).toBe(false);
    expect(isAllowedSender(reveal('d1'), { ...portal('/devices/d1'), origin: 'https://evil.example' }, context)).toBe(false);
    expect(isAllowedSender(reveal('d1'), { id: 'ext-id', url: 'https://escrow.example.com/devices/d1' }, context)).toBe(false);
  });

  it('panel.copied comes only from the portal content script in a tab’s top frame', () => {
    const copied: Message = { type: 'panel.copied', sha256: 'a'.repeat(64) };
    const topFrame = { ...portal('/devices/d1'), frameId: 0 };
    expect(isAllowedSender(copied, topFrame, context)).toBe(true);
    expect(isAllowedSender(copied, { ...topFrame, frameId: 2 }, context)).toBe(false);
    expect(isAllowedSender(copied, portal('/devices/d1'), context)).toBe(false);
    expect(isAllowedSender(copied, { ...topFrame, url: 'https://evil.example/devices/d1', origin: 'https://evil.example' }, context)).toBe(false);
    expect(isAllowedSender(copied, page('popup.html'), context)).toBe(false);
    expect(isAllowedSender(copied, { ...page('options.html'), tab: { id: 7 }, frameId: 0 }, context)).toBe(false);
    // The popup's own clearing request stays closed to the portal.
    expect(isAllowedSender({ type: 'clipboard.copied', sha256: 'a'.repeat(64) }, topFrame, context)).toBe(false);
  });

  it('knows the portal tab of a content script, never of our own pages', () => {
    expect(portalTabOf({ ...portal('/devices/d1'), frameId: 0 }, context)).toEqual({ tabId: 7, frameId: 0 });
    expect(portalTabOf({ ...page('options.html'), tab: { id: 7 }, frameId: 0 }, context)).toBeNull();
    expect(portalTabOf(page('popup.html'), context)).toBeNull();
  });

  it('refuses another extension and unknown contexts', () => {
    expect(isAllowedSender(stateGet, { ...page('popup.html'), id: 'other-extension' }, context)).toBe(false);
    expect(isAllowedSender(stateGet, { id: 'ext-id' }, context)).toBe(false);
    expect(isAllowedSender(stateGet, {}, context)).toBe(false);
  });

  it('reads the device of a portal device page, and nothing else', () => {
    expect(portalPageDevice('https://escrow.example.com/devices/d%201/keys')).toBe('d 1');
    expect(portalPageDevice('https://escrow.example.com/admin/devices/abc')).toBe('abc');
    expect(portalPageDevice('https://escrow.example.com/devices')).toBeNull();
    expect(portalPageDevice('https://escrow.example.com/devices/%E0%A4%A')).toBeNull();
    expect(portalPageDevice('not a url')).toBeNull();
  });
});
