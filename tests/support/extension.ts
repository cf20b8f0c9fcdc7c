/**
 * Drives the extension the way a person does: options page (service URL, sign-in through
 * the portal's OAuth consent, vault passphrase), the popup, and inspection helpers for the
 * tests (stop the service worker, dump what the extension stores).
 */
import type { Page } from 'playwright-core';
import type { ExtensionBrowser } from './browser.ts';
import { signInToPortal, type PortalAccount } from './portal.ts';

export async function openOptions(b: ExtensionBrowser): Promise<Page> {
  const page = await b.context.newPage();
  await page.goto(b.extensionUrl('options.html'));
  await page.locator('#kw-service-url').waitFor();
  return page;
}

export async function configureService(b: ExtensionBrowser, serviceUrl: string): Promise<Page> {
  const options = await openOptions(b);
  await options.locator('#kw-service-url').fill(serviceUrl);
  await options.getByRole('button', { name: 'Save settings' }).click();
  await options.getByText('Saved.').waitFor();
  return options;
}

/** Options › Sign in → the portal's sign-in and consent in a new tab → callback.html. */
export async function signInExtension(b: ExtensionBrowser, options: Page, account: PortalAccount): Promise<void> {
  const authorizeTab = b.context.waitForEvent('page');
  await options.locator('[data-keyward-action="sign-in"]').click();
  const tab = await authorizeTab;
  // The new tab may still be about:blank when it is handed over: wait for the portal's own page.
  await tab.locator('#login-form, #consent').first().waitFor({ timeout: 20_000 });
  await signInToPortal(tab, account);
  // The consent page names the extension asking, by the id this browser runs it under.
  await tab.locator('#consent-extension-id', { hasText: b.extensionId }).waitFor({ timeout: 5_000 });
  await tab.getByRole('button', { name: 'Allow' }).click();
  await tab.waitForURL(/callback\.html/);
  await tab.locator('[data-keyward-callback="done"]').waitFor({ timeout: 15_000 });
  await tab.close();
  await options.locator('[data-keyward-account="signed-in"]').waitFor();
}

export async function setVaultPassphrase(options: Page, passphrase: string): Promise<void> {
  await options.locator('#kw-new').fill(passphrase);
  await options.locator('#kw-confirm-pass').fill(passphrase);
  await options.getByRole('button', { name: 'Set passphrase' }).click();
  await options.locator('[data-keyward-vault-message="ok"]').waitFor({ timeout: 30_000 });
}

export async function openPopup(b: ExtensionBrowser, page?: Page): Promise<Page> {
  const popup = page ?? (await b.context.newPage());
  await popup.setViewportSize({ width: 380, height: 600 });
  await popup.goto(b.extensionUrl('popup.html'));
  await popup.locator('main.kw-root').waitFor();
  return popup;
}

/** Stops the extension's service worker (as Chrome does when it is idle) and waits until it has stopped. */
export async function stopServiceWorker(b: ExtensionBrowser, page: Page): Promise<void> {
  const cdp = await b.context.newCDPSession(page);
  type Versions = { versions: { scriptURL: string; runningStatus: string }[] };
  const stopped = new Promise<void>((resolve) => {
    cdp.on('ServiceWorker.workerVersionUpdated', (event: Versions) => {
      if (event.versions.some((v) => v.scriptURL.endsWith('/background.js') && v.runningStatus === 'stopped')) resolve();
    });
  });
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await stopped;
  await cdp.detach();
}

/** Everything the extension keeps: IndexedDB (bytes as text too), storage.local, storage.session. */
export async function dumpExtensionStorage(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const bytesAsText = (value: unknown): unknown => {
      if (value instanceof Uint8Array) return { bytes: Array.from(value).join(','), latin1: String.fromCharCode(...value) };
      if (value instanceof ArrayBuffer) return bytesAsText(new Uint8Array(value));
      if (Array.isArray(value)) return value.map(bytesAsText);
      if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bytesAsText(v)]));
      return value;
    };
    const databases: Record<string, Record<string, unknown[]>> = {};
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(info.name!);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const stores: Record<string, unknown[]> = {};
      for (const name of Array.from(db.objectStoreNames)) {
        stores[name] = await new Promise<unknown[]>((resolve, reject) => {
          const request = db.transaction(name).objectStore(name).getAll();
          request.onsuccess = () => resolve(request.result.map(bytesAsText));
          request.onerror = () => reject(request.error);
        });
      }
      databases[info.name] = stores;
      db.close();
    }
    type Area = { get(keys: null): Promise<unknown> };
    const storage = (globalThis as unknown as { chrome: { storage: { local: Area; session: Area } } }).chrome.storage;
    const local = await storage.local.get(null);
    const session = await storage.session.get(null);
    return JSON.stringify({ databases, local, session });
  });
}

/** True when `text` holds the key in any grouping, separator or case. */
export function containsKey(text: string, key: string): boolean {
  const squash = (v: string) => v.toLowerCase().replace(/[^0-9a-z]/g, '');
  return squash(text).includes(squash(key));
}
