/**
 * Chrome offscreen document (reason CLIPBOARD): after the requested delay, clears the
 * clipboard if it still holds the copied key (compared by SHA-256), then asks the
 * background to close this document once no clearing is pending. Listens to the background
 * only (content scripts' messages reach every extension page too).
 */
import { browser } from 'wxt/browser';
import { clearClipboardIfUnchanged } from '../../utils/clipboard.ts';
import { sendMessage } from '../../utils/send.ts';
import type { OffscreenRequest } from '../../utils/client/messages.ts';

let pending = 0;

type Sender = { id?: string; url?: string; tab?: unknown };

/** Only our own extension contexts (the background), never a content script in a tab. */
function fromExtension(sender: Sender): boolean {
  return sender.id === browser.runtime.id && sender.tab === undefined && (sender.url?.startsWith(browser.runtime.getURL('/')) ?? false);
}

browser.runtime.onMessage.addListener((message: unknown, sender: Sender) => {
  const request = message as OffscreenRequest | null;
  if (request?.target !== 'offscreen' || request.type !== 'clipboard.clearLater' || !fromExtension(sender)) return undefined;
  pending += 1;
  setTimeout(async () => {
    await clearClipboardIfUnchanged(document, request.sha256).catch(() => false);
    pending -= 1;
    if (pending === 0) await sendMessage('offscreen.done', {});
  }, request.delayMs);
  return Promise.resolve({ ok: true });
});
