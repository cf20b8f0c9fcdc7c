/**
 * Chrome's clipboard clearing from the background (entrypoints/background/clipboard.ts): one
 * offscreen document (reason CLIPBOARD) at a time, asked with the typed offscreen request to
 * clear after the configured delay, and closed on request. The offscreen API is Chrome's; here
 * a small in-memory stand-in keeps the open documents, and a runtime listener plays the document.
 * A portal panel's request (`panel.copied`) is obeyed only for a key the background revealed to
 * that very tab's top frame, within the key's shown window (entrypoints/background/panel-reveals.ts).
 */
import { fakeBrowser, resetExtension } from './fake-extension.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RevealedKey } from '../../lib/api/contract.ts';
import type { Message, MessageType, OffscreenRequest, Reply } from '../../utils/client/messages.ts';
import { sha256Hex } from '../../utils/clipboard.ts';
import { closeClipboardDocument, scheduleClipboardClear } from '../../entrypoints/background/clipboard.ts';
import { rememberPanelReveal, unexpired, wasRevealedTo } from '../../entrypoints/background/panel-reveals.ts';
import { createHandlers, dispatch, EXTENSION_PAGE, type Caller } from '../../entrypoints/background/router.ts';
import type { PortalTab } from '../../entrypoints/background/sender-policy.ts';
import { writeSettings } from '../../entrypoints/background/settings.ts';
import { panelRevealsItem, tokensItem } from '../../entrypoints/background/storage-items.ts';
import { openVaultPort } from '../../entrypoints/background/vault-adapter.ts';
import { createVaultSession } from '../../entrypoints/background/vault-session.ts';
import { device } from '../vault/helpers.ts';
import { startFakeService, type FakeService } from './fake-service.ts';

type CreateOptions = { url: string; reasons: string[]; justification: string };

/** Chrome's offscreen API and `runtime.getContexts`, over a list of open documents. */
function installOffscreen() {
  const created: CreateOptions[] = [];
  let open = 0;
  Object.assign(fakeBrowser, {
    offscreen: {
      async createDocument(options: CreateOptions) {
        if (open > 0) throw new Error('Only a single offscreen document may be created.');
        created.push(options);
        open += 1;
      },
      async closeDocument() {
        if (open === 0) throw new Error('No current offscreen document.');
        open -= 1;
      },
    },
  });
  Object.assign(fakeBrowser.runtime, {
    async getContexts(filter: { contextTypes: string[] }) {
      return filter.contextTypes.includes('OFFSCREEN_DOCUMENT') ? Array.from({ length: open }, () => ({ contextType: 'OFFSCREEN_DOCUMENT' })) : [];
    },
  });
  const requests: OffscreenRequest[] = [];
  fakeBrowser.runtime.onMessage.addListener((message: unknown) => {
    requests.push(message as OffscreenRequest);
    return Promise.resolve({ ok: true });
  });
  return { created, requests, open: () => open };
}

beforeEach(resetExtension);

describe('clipboard clearing (Chrome)', () => {
  it('opens one offscreen document and asks it to clear after the configured delay, by hash only', async () => {
    const offscreen = installOffscreen();
    await writeSettings({ clipboardSeconds: 12 });
    await scheduleClipboardClear('a'.repeat(64));
    await scheduleClipboardClear('b'.repeat(64));
    expect(offscreen.created).toEqual([{ url: '/offscreen.html', reasons: ['CLIPBOARD'], justification: expect.any(String) }]);
    expect(offscreen.requests).toEqual([
      { target: 'offscreen', type: 'clipboard.clearLater', sha256: 'a'.repeat(64), delayMs: 12_000 },
      { target: 'offscreen', type: 'clipboard.clearLater', sha256: 'b'.repeat(64), delayMs: 12_000 },
    ]);
    await closeClipboardDocument();
    expect(offscreen.open()).toBe(0);
    // Closing again (a late `offscreen.done`) is harmless.
    await closeClipboardDocument();
  });
});

const KEY: RevealedKey = {
  deviceId: 'mac', volumeId: 'mac-v1', volumeName: 'Macintosh HD', kind: 'filevault', version: 1,
  key: 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY', protectorId: null, revealedAt: '2026-11-20T10:00:00.000Z', hideAfterSeconds: 300,
};
const TAB: PortalTab = { tabId: 7, frameId: 0 };

describe('which panel may have the clipboard cleared (pure rule)', () => {
  const now = Date.UTC(2026, 10, 20, 10);
  const reveals = [{ tabId: 7, sha256: 'a'.repeat(64), until: now + 1000 }, { tabId: 8, sha256: 'b'.repeat(64), until: now - 1 }];

  it('only the tab that was shown the key, in its top frame, before its shown window ends', () => {
    expect(wasRevealedTo(reveals, TAB, 'a'.repeat(64), now)).toBe(true);
    expect(wasRevealedTo(reveals, TAB, 'c'.repeat(64), now), 'a forged hash').toBe(false);
    expect(wasRevealedTo(reveals, { tabId: 9, frameId: 0 }, 'a'.repeat(64), now), 'another tab').toBe(false);
    expect(wasRevealedTo(reveals, { tabId: 7, frameId: 3 }, 'a'.repeat(64), now), 'a frame in that tab').toBe(false);
    expect(wasRevealedTo(reveals, TAB, 'a'.repeat(64), now + 1000), 'the window ended').toBe(false);
    expect(wasRevealedTo(reveals, { tabId: 8, frameId: 0 }, 'b'.repeat(64), now), 'an expired reveal').toBe(false);
    expect(unexpired(reveals, now)).toEqual([reveals[0]]);
  });
});

describe('clipboard clearing for a portal panel (panel.copied)', () => {
  let service: FakeService;
  beforeAll(async () => {
    service = await startFakeService();
  });
  afterAll(() => service.close());
  beforeEach(async () => {
    service.devices = [device('mac', 'MacBook')];
    service.keys = new Map([['mac', KEY]]);
    await writeSettings({ serviceUrl: service.url, clipboardSeconds: 12 });
    await tokensItem.setValue({ accessToken: 'access-1', refreshToken: 'refresh-1', expiresAt: Date.now() + 60 * 60_000 });
  });

  function background() {
    const vault = openVaultPort();
    const handlers = createHandlers(vault, createVaultSession(vault));
    return async <K extends MessageType>(message: Message<K>, caller: Caller): Promise<Reply<K>> => (await dispatch(handlers, message, caller)) as Reply<K>;
  }

  it('clears later a key the background revealed to that tab; remembers only its hash', async () => {
    const offscreen = installOffscreen();
    const send = background();
    expect(await send({ type: 'key.reveal', deviceId: 'mac' }, { portalTab: TAB })).toMatchObject({ ok: true, key: { key: KEY.key } });
    const sha256 = await sha256Hex(KEY.key);
    expect(JSON.stringify(await panelRevealsItem.getValue())).not.toContain(KEY.key);
    expect(await send({ type: 'panel.copied', sha256 }, { portalTab: TAB })).toEqual({ ok: true, clearAfterSeconds: 12 });
    expect(offscreen.requests).toEqual([{ target: 'offscreen', type: 'clipboard.clearLater', sha256, delayMs: 12_000 }]);
  });

  it('refuses, and changes nothing, for a forged hash, another tab, a frame, an expired window or a popup reveal', async () => {
    const offscreen = installOffscreen();
    const send = background();
    const sha256 = await sha256Hex(KEY.key);
    const refused = { ok: false, error: { code: 'forbidden', message: 'Not allowed from here.' } };

    // Revealed to the popup (no tab): no panel may have it cleared.
    await send({ type: 'key.reveal', deviceId: 'mac' }, EXTENSION_PAGE);
    expect(await send({ type: 'panel.copied', sha256 }, { portalTab: TAB })).toEqual(refused);
    expect(await send({ type: 'panel.copied', sha256 }, EXTENSION_PAGE)).toEqual(refused);

    await send({ type: 'key.reveal', deviceId: 'mac' }, { portalTab: TAB });
    expect(await send({ type: 'panel.copied', sha256: await sha256Hex('a note the user copied') }, { portalTab: TAB })).toEqual(refused);
    expect(await send({ type: 'panel.copied', sha256 }, { portalTab: { tabId: 8, frameId: 0 } })).toEqual(refused);
    expect(await send({ type: 'panel.copied', sha256 }, { portalTab: { tabId: 7, frameId: 2 } })).toEqual(refused);

    // Revealed in a frame: not remembered at all.
    await panelRevealsItem.setValue([]);
    await send({ type: 'key.reveal', deviceId: 'mac' }, { portalTab: { tabId: 9, frameId: 1 } });
    expect(await panelRevealsItem.getValue()).toEqual([]);

    // Shown more than five minutes ago.
    await rememberPanelReveal(TAB, KEY, Date.now() - KEY.hideAfterSeconds * 1000 - 1);
    expect(await send({ type: 'panel.copied', sha256 }, { portalTab: TAB })).toEqual(refused);

    expect(offscreen.requests).toEqual([]);
    expect(offscreen.created).toEqual([]);
  });
});
