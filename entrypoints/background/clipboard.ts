/**
 * Clears the clipboard a while after the popup copied a key, but only if it still holds
 * what we put there (compared by SHA-256, so the key itself never reaches the background).
 * Chrome MV3: an offscreen document (reason CLIPBOARD) reads and clears it. Firefox: the
 * background page has a DOM and does it itself.
 */
import { browser } from 'wxt/browser';
import { clearClipboardIfUnchanged } from '../../lib/client/clipboard.ts';
import { readSettings } from './settings.ts';

const OFFSCREEN_PATH = '/offscreen.html';

type OffscreenApi = {
  createDocument(options: { url: string; reasons: string[]; justification: string }): Promise<void>;
  closeDocument(): Promise<void>;
  hasDocument?: () => Promise<boolean>;
};

function offscreenApi(): OffscreenApi | null {
  const chromeGlobal = (globalThis as { chrome?: { offscreen?: OffscreenApi } }).chrome;
  return chromeGlobal?.offscreen ?? null;
}

export async function scheduleClipboardClear(sha256: string): Promise<void> {
  const { clipboardSeconds } = await readSettings();
  const delayMs = clipboardSeconds * 1000;
  const offscreen = offscreenApi();
  if (!offscreen) {
    setTimeout(() => void clearClipboardIfUnchanged(document, sha256), delayMs);
    return;
  }
  const open = offscreen.hasDocument ? await offscreen.hasDocument() : false;
  if (!open) {
    await offscreen.createDocument({
      url: OFFSCREEN_PATH,
      reasons: ['CLIPBOARD'],
      justification: 'Clear a copied recovery key from the clipboard after a delay.',
    });
  }
  await browser.runtime.sendMessage({ target: 'offscreen', type: 'clipboard.clearLater', sha256, delayMs });
}

export async function closeClipboardDocument(): Promise<void> {
  const offscreen = offscreenApi();
  if (offscreen) await offscreen.closeDocument().catch(() => undefined);
}
