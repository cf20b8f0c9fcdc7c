/**
 * Drives the extension the way a person does, in any browser (driver.ts): options page
 * (service URL, sign-in, vault passphrase), the popup, a portal device page; and inspection
 * helpers for the tests (what the extension stores, its alarms), run inside an extension page.
 */
import type { MessageMap, MessageType, Reply } from '../../utils/client/messages.ts';
import type { StoragePlace } from '../../entrypoints/background/storage-keys.ts';
import { until, type ExtensionDriver, type Tab } from './driver.ts';
import { chromiumDriverOf } from './browsers.ts';
import type { PortalAccount } from './portal.ts';

export async function openOptions(driver: ExtensionDriver): Promise<Tab> {
  const tab = await driver.newTab();
  await tab.goto(driver.extensionUrl('options.html'));
  await tab.page.waitFor('#kw-service-url');
  return tab;
}

export async function configureService(driver: ExtensionDriver, serviceUrl: string): Promise<Tab> {
  const options = await openOptions(driver);
  await options.page.fill('#kw-service-url', serviceUrl);
  await options.page.click({ button: 'Save settings' });
  await until(() => options.page.text('main'), (text) => text?.includes('Saved.') ?? false, 'Saved.');
  return options;
}

/** Options › Sign in, then whatever the browser's sign-in window asks (the driver knows). */
export async function signInExtension(driver: ExtensionDriver, options: Tab, account: PortalAccount): Promise<void> {
  await driver.signIn(options, account);
}

/** Configures the service, signs in and (optionally) sets the vault passphrase; returns the options tab. */
export async function setUpExtension(driver: ExtensionDriver, serviceUrl: string, account: PortalAccount, passphrase?: string): Promise<Tab> {
  const options = await configureService(driver, serviceUrl);
  await driver.signIn(options, account);
  if (passphrase) await setVaultPassphrase(options, passphrase);
  return options;
}

export async function setVaultPassphrase(options: Tab, passphrase: string): Promise<void> {
  await options.page.fill('#kw-new', passphrase);
  await options.page.fill('#kw-confirm-pass', passphrase);
  await options.page.click({ button: 'Set passphrase' });
  await options.page.waitFor('[data-keyward-vault-message="ok"]', 30_000);
}

export async function openPopup(driver: ExtensionDriver, tab?: Tab): Promise<Tab> {
  const popup = tab ?? (await driver.newTab());
  await popup.setViewport(380, 600);
  await popup.goto(driver.extensionUrl('popup.html'));
  await popup.page.waitFor('main.kw-root');
  return popup;
}

export async function openDevicePage(driver: ExtensionDriver, serviceUrl: string, deviceId: string, tab?: Tab): Promise<Tab> {
  const page = tab ?? (await driver.newTab());
  await page.goto(`${serviceUrl}/devices/${encodeURIComponent(deviceId)}`);
  return page;
}

type StorageArea = { get(keys: string | null): Promise<Record<string, unknown>>; set(items: Record<string, unknown>): Promise<void> };
type Alarm = { name: string; scheduledTime: number };
type ExtensionApi = {
  storage: { local: StorageArea; session: StorageArea };
  alarms: { get(name: string): Promise<Alarm | undefined>; create(name: string, info: { when: number; periodInMinutes?: number }): Promise<void> };
};

/** A storage place (entrypoints/background/storage-keys.ts): its area and its key in that area. */
function itemPlace(item: { key: string }): { area: 'local' | 'session'; key: string } {
  const [area, ...rest] = item.key.split(':');
  if (area !== 'local' && area !== 'session') throw new Error(`not a local or session item: ${item.key}`);
  return { area, key: rest.join(':') };
}

type Item<V> = StoragePlace<V>;

/** A stored value as the extension keeps it (its fallback when absent), read from an extension page. */
export async function readItem<V>(extensionPage: Tab, item: Item<V>): Promise<V> {
  const { area, key } = itemPlace(item);
  const values = await extensionPage.evaluate(({ which, name }) => {
    const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
    return (g.browser ?? g.chrome).storage[which].get(name);
  }, { which: area, name: key });
  return key in values ? (values[key] as V) : item.fallback;
}

/** Sets a stored value from an extension page (as the background would). */
export function writeItem<V>(extensionPage: Tab, item: Item<V>, value: V): Promise<void> {
  const { area, key } = itemPlace(item);
  return extensionPage.evaluate(({ which, values }) => {
    const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
    return (g.browser ?? g.chrome).storage[which].set(values);
  }, { which: area, values: { [key]: value } });
}

export function getAlarm(extensionPage: Tab, name: string): Promise<Alarm | undefined> {
  return extensionPage.evaluate((n) => {
    const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
    return (g.browser ?? g.chrome).alarms.get(n);
  }, name);
}

/** Brings an alarm forward (unpacked and temporary extensions may set short alarms). */
export function setAlarm(extensionPage: Tab, name: string, when: number, periodInMinutes?: number): Promise<void> {
  return extensionPage.evaluate(({ n, at, period }) => {
    const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
    return (g.browser ?? g.chrome).alarms.create(n, period === undefined ? { when: at } : { when: at, periodInMinutes: period });
  }, { n: name, at: when, period: periodInMinutes });
}

/** Everything the extension keeps: IndexedDB (bytes as text too), storage.local, storage.session. */
export async function dumpExtensionStorage(extensionPage: Tab): Promise<string> {
  return extensionPage.evaluate(async () => {
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
    const g = globalThis as unknown as { browser?: ExtensionApi; chrome: ExtensionApi };
    const storage = (g.browser ?? g.chrome).storage;
    const local = await storage.local.get(null);
    const session = await storage.session.get(null);
    return JSON.stringify({ databases, local, session });
  }, null);
}

/** True when `text` holds the key in any grouping, separator or case. */
export function containsKey(text: string, key: string): boolean {
  const squash = (v: string) => v.toLowerCase().replace(/[^0-9a-z]/g, '');
  return squash(text).includes(squash(key));
}

/** Stops the extension's service worker (as Chrome does when it is idle) and waits until it has stopped (Chromium only). */
export async function stopServiceWorker(driver: ExtensionDriver, tab: Tab): Promise<void> {
  const { browser, tab: page } = chromiumDriverOf(driver, tab);
  const cdp = await browser.context.newCDPSession(page);
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

/**
 * Moves `Date.now()` forward by `ms` in an extension page (the popup, options): its own
 * one-second ticker then sees the new time — no real five-minute wait. Works the same in
 * every browser, since extension pages run in the world the automation protocol evaluates in.
 */
export async function fastForwardPageClock(tab: Tab, ms: number): Promise<void> {
  await tab.evaluate((offset) => {
    const g = globalThis as unknown as { keywardClock?: { offset: number } };
    if (!g.keywardClock) {
      const realNow = Date.now.bind(Date);
      const clock = { offset: 0 };
      g.keywardClock = clock;
      Date.now = () => realNow() + clock.offset;
    }
    g.keywardClock.offset += offset;
  }, ms);
}

type RuntimeApi = { runtime: { sendMessage(message: object): Promise<unknown> } };

/** Sends the background a typed message from an extension page, as the popup or the options page does. */
export async function sendFromExtensionPage<K extends MessageType>(extensionPage: Tab, type: K, request: MessageMap[K]['request']): Promise<Reply<K>> {
  const reply = await extensionPage.evaluate((message) => {
    const g = globalThis as unknown as { browser?: RuntimeApi; chrome: RuntimeApi };
    return (g.browser ?? g.chrome).runtime.sendMessage(message);
  }, { type, ...request });
  return reply as Reply<K>;
}

type ContextsApi = { runtime: { getContexts(filter: { contextTypes: string[] }): Promise<unknown[]> } };

/** Chromium: how many offscreen documents the extension has open (read from an extension page). */
export function offscreenDocuments(extensionPage: Tab): Promise<number> {
  return extensionPage.evaluate(async () => {
    const g = globalThis as unknown as { chrome: ContextsApi };
    return (await g.chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).length;
  }, null);
}

type ClearWatch = { reads: number; settled: number };
type BackgroundWindow = Window & { crypto: Crypto };
type FirefoxPageApi = { runtime: { getBackgroundPage(): Promise<BackgroundWindow> } };

/**
 * Call right after a key was copied, before its clipboard clear is due. The returned function
 * waits until that clear has run to its end, whatever it decided — so a test can then check
 * that it left the clipboard alone, without guessing a time.
 * Chromium: the offscreen document that clears closes once no clear is pending.
 * Firefox: the background page clears itself; its clipboard read (a `paste` on its document),
 * the SHA-256 it then compares, and one more task of that page are observed.
 */
export async function watchClipboardClear(driver: ExtensionDriver, extensionPage: Tab): Promise<() => Promise<void>> {
  if (driver.name === 'chromium') {
    await until(() => offscreenDocuments(extensionPage), (n) => n === 1, 'the offscreen clipboard document');
    return async () => {
      await until(() => offscreenDocuments(extensionPage), (n) => n === 0, 'the clipboard clear to finish', 30_000);
    };
  }
  await extensionPage.evaluate(async () => {
    const g = globalThis as unknown as { browser: FirefoxPageApi; keywardClearWatch?: ClearWatch };
    const background = await g.browser.runtime.getBackgroundPage();
    const watch: ClearWatch = { reads: 0, settled: 0 };
    g.keywardClearWatch = watch;
    background.document.addEventListener('paste', () => void (watch.reads += 1));
    const subtle = background.crypto.subtle;
    const digest = subtle.digest.bind(subtle);
    subtle.digest = (algorithm: AlgorithmIdentifier, data: BufferSource) => digest(algorithm, data).then((hash) => {
      // After the read, the comparison and any clearing finish within this task's microtasks.
      if (watch.reads > 0) background.setTimeout(() => void (watch.settled += 1), 0);
      return hash;
    });
  }, null);
  return async () => {
    const settled = () => extensionPage.evaluate(() => (globalThis as unknown as { keywardClearWatch?: ClearWatch }).keywardClearWatch?.settled ?? 0, null);
    await until(settled, (n) => n > 0, 'the clipboard clear to finish', 30_000);
  };
}
