/**
 * Registers the portal content script for the configured service (scripting.registerContentScripts),
 * so the panels appear on that portal and nowhere else: the exact origin in Chromium, the host
 * in Firefox, which never matches a pattern with a port; there the background's sender policy
 * keeps a page on another port of that host from getting an answer, so no panel mounts on it.
 */
import { browser } from 'wxt/browser';
import { serviceMatchPattern } from '../../utils/client/service-pattern.ts';

const SCRIPT_ID = 'keyward-portal';

let queue: Promise<void> = Promise.resolve();

/** Registrations run one after another (startup and a settings change may overlap). */
export function registerPortalScript(serviceUrl: string): Promise<void> {
  const next = queue.then(() => register(serviceUrl));
  queue = next.catch(() => undefined);
  return next;
}

async function register(serviceUrl: string): Promise<void> {
  const pattern = serviceMatchPattern(serviceUrl, !import.meta.env.FIREFOX);
  const existing = await browser.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
  if (existing.length === 1 && existing[0].matches?.length === 1 && existing[0].matches[0] === pattern) return;
  if (existing.length > 0) await browser.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
  await browser.scripting.registerContentScripts([
    { id: SCRIPT_ID, matches: [pattern], js: ['content-scripts/portal.js'], runAt: 'document_idle', persistAcrossSessions: true },
  ]);
}
