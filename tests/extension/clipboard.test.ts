/**
 * Chrome's clipboard clearing from the background (entrypoints/background/clipboard.ts): one
 * offscreen document (reason CLIPBOARD) at a time, asked with the typed offscreen request to
 * clear after the configured delay, and closed on request. The offscreen API is Chrome's; here
 * a small in-memory stand-in keeps the open documents, and a runtime listener plays the document.
 */
import { fakeBrowser, resetExtension } from './fake-extension.ts';
import { beforeEach, describe, expect, it } from 'vitest';
import type { OffscreenRequest } from '../../utils/client/messages.ts';
import { closeClipboardDocument, scheduleClipboardClear } from '../../entrypoints/background/clipboard.ts';
import { writeSettings } from '../../entrypoints/background/settings.ts';

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
