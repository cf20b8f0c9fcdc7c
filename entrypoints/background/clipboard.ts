/**
 * Clears the clipboard a while after the popup or a portal panel copied a key, but only if it
 * still holds what we put there (compared by SHA-256, so the key itself never reaches the
 * background).
 * Chrome MV3: an offscreen document (reason CLIPBOARD) reads and clears it. Firefox: the
 * background page has a DOM and does it itself.
 */
import { browser } from 'wxt/browser';
import { clearClipboardIfUnchanged } from '../../utils/clipboard.ts';
import type { OffscreenRequest } from '../../utils/client/messages.ts';
import { readSettings } from './settings.ts';

const OFFSCREEN_PATH = '/offscreen.html';

type OffscreenApi = {
  createDocument(options: { url: string; reasons: string[]; justification: string }): Promise<void>;
  closeDocument(): Promise<void>;
};
type ChromeGlobal = {
  offscreen?: OffscreenApi;
  runtime: { getContexts?: (filter: { contextTypes: string[] }) => Promise<unknown[]> };
};

function chromeGlobal(): ChromeGlobal | null {
  return (globalThis as { chrome?: ChromeGlobal }).chrome ?? null;
}

async function ensureOffscreenDocument(chrome: ChromeGlobal, offscreen: OffscreenApi): Promise<void> {
  const open = (await chrome.runtime.getContexts?.({ contextTypes: ['OFFSCREEN_DOCUMENT'] })) ?? [];
  if (open.length > 0) return;
  try {
    await offscreen.createDocument({
      url: OFFSCREEN_PATH,
      reasons: ['CLIPBOARD'],
      justification: 'Clear a copied recovery key from the clipboard after a delay.',
    });
  } catch (error) {
    const stillMissing = ((await chrome.runtime.getContexts?.({ contextTypes: ['OFFSCREEN_DOCUMENT'] })) ?? []).length === 0;
    if (stillMissing) throw error;
  }
}

/** Answers the delay, in seconds, after which the clipboard is cleared. */
export async function scheduleClipboardClear(sha256: string): Promise<number> {
  const { clipboardSeconds } = await readSettings();
  const delayMs = clipboardSeconds * 1000;
  const chrome = chromeGlobal();
  const offscreen = chrome?.offscreen;
  if (!chrome || !offscreen) {
    setTimeout(() => void clearClipboardIfUnchanged(document, sha256), delayMs);
    return clipboardSeconds;
  }
  await ensureOffscreenDocument(chrome, offscreen);
  const request: OffscreenRequest = { target: 'offscreen', type: 'clipboard.clearLater', sha256, delayMs };
  await browser.runtime.sendMessage(request);
  return clipboardSeconds;
}

export async function closeClipboardDocument(): Promise<void> {
  await chromeGlobal()?.offscreen?.closeDocument().catch(() => undefined);
}
