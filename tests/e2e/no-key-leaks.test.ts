/**
 * Recovery keys stay where they belong: after storing three keys in the portal panel and
 * revealing keys (cached encrypted in the vault), none of them — in any grouping or case —
 * is in IndexedDB, storage.local, storage.session, or anything a portal page script can reach
 * (the panels' shadow roots are closed), and the portal page's own (bubbling) event listeners
 * never see a key typed into a panel — in Chromium and in Firefox; the portal content script
 * can reveal only the key of its own page's device (checked in Chromium's isolated world).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey, generateRecoveryKey } from '../../lib/keys/index.ts';
import { chromiumDriverOf, E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import { sendFromContentScript } from '../support/content-world.ts';
import { until, type ExtensionDriver, type Tab } from '../support/driver.ts';
import { containsKey, dumpExtensionStorage, openDevicePage, openPopup, readItem, setUpExtension } from '../support/extension.ts';
import { SETTINGS } from '../../entrypoints/background/storage-keys.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

describe.each(E2E_BROWSERS)('no key leaves the shadow root or the vault in clear, in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  let options: Tab;
  let portal: Tab;
  const keys: string[] = [];

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    options = await setUpExtension(driver, service.url, DEMO_USER, 'a long vault passphrase');
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  /** Saves through the panel and waits for the page's live part to show a new outcome. */
  async function storeAndWait(key: string, outcome: 'M3' | 'M4'): Promise<void> {
    const store = portal.panel('store');
    const before = await portal.page.attribute('#notice', 'data-at');
    await store.fill({ label: 'Recovery key' }, key);
    await store.fill({ label: 'Confirm recovery key' }, key.toLowerCase());
    await store.click({ button: 'Save' });
    const seen = async () => ({ at: await portal.page.attribute('#notice', 'data-at'), notice: await portal.page.attribute('#notice', 'data-notice') });
    await until(seen, (now) => now.at !== before && now.notice === outcome, `a new ${outcome} on the page`, 20_000);
  }

  it('stores three keys and reveals keys through the panel and the popup', async () => {
    const personal = fleetDevice(service, 'Personal MacBook');
    portal = await openDevicePage(driver, service.url, personal.deviceId);
    for (const wrong of [generateRecoveryKey('filevault'), generateRecoveryKey('filevault')]) {
      keys.push(formatRecoveryKey('filevault', wrong));
      await storeAndWait(formatRecoveryKey('filevault', wrong), 'M3');
    }
    const right = formatRecoveryKey('filevault', personal.volumes[0].currentKey());
    keys.push(right);
    await storeAndWait(right, 'M4');

    await portal.panel('get').click({ button: 'Get recovery key' });
    const revealed = await portal.panel('get').waitForText('[data-keyward-key]');
    expect(revealed).toBe(formatRecoveryKey('filevault', personal.volumes[0].currentKey()));
    keys.push(revealed);

    const popup = await openPopup(driver);
    await popup.page.click({ button: 'Get recovery key: Corporate MacBook (simulated)' });
    const corporateKey = await popup.page.waitForText('[data-keyward-key]');
    expect(corporateKey).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    keys.push(corporateKey);
    expect(keys).toHaveLength(5);
    await popup.close();
  });

  it('keeps IndexedDB, storage.local and storage.session free of every key', async () => {
    const dump = await dumpExtensionStorage(options);
    expect(dump).toContain('"keys":[{');
    expect(dump).toContain('keyward-vault');
    for (const key of keys) expect(containsKey(dump, key), `key ${keys.indexOf(key)} in extension storage`).toBe(false);
  });

  it('keeps the revealed key out of everything a portal page script can reach', async () => {
    const shadowText = await portal.panel('get').text('[data-keyward-revealed]');
    expect(containsKey(shadowText ?? '', keys[3])).toBe(true);
    const reachable = await portal.evaluate(() => {
      // What a page script sees: the DOM, its text, and every shadow root it is given.
      const parts = [document.documentElement.outerHTML, document.body.innerText];
      for (const element of Array.from(document.querySelectorAll('*'))) {
        if (element.shadowRoot) parts.push(element.shadowRoot.innerHTML);
      }
      const hosts = Array.from(document.querySelectorAll('keyward-panel'), (host) => host.shadowRoot === null);
      return { text: parts.join('\n'), closed: hosts };
    }, null);
    expect(reachable.closed).toEqual([true, true]);
    expect(reachable.text).toContain('data-keyward-panel="store"');
    for (const key of keys) expect(containsKey(reachable.text, key), `key ${keys.indexOf(key)} reachable by the page`).toBe(false);
    expect(containsKey(await portal.url(), keys[2])).toBe(false);
  });

  it("never hands a typed key to the portal page's own event listeners", async () => {
    const device = fleetDevice(service, 'Personal MacBook');
    const page = await openDevicePage(driver, service.url, device.deviceId);
    const store = page.panel('store');
    await store.waitFor({ label: 'Recovery key' });
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seenByPage: string[] }).seenByPage = seen;
      const types = ['keydown', 'keyup', 'keypress', 'beforeinput', 'input', 'textInput', 'paste', 'copy', 'cut', 'compositionend', 'change', 'select'];
      for (const type of types) {
        document.addEventListener(type, (event) => {
          const e = event as Partial<KeyboardEvent & InputEvent & ClipboardEvent>;
          const target = event.composedPath()[0] as { value?: unknown } | undefined;
          seen.push([type, e.key, e.data, e.clipboardData?.getData('text'), e.dataTransfer?.getData('text'), target?.value].filter((v) => typeof v === 'string').join(' '));
        });
      }
    }, null);
    const key = formatRecoveryKey('filevault', generateRecoveryKey('filevault'));
    await store.fill({ label: 'Recovery key' }, key);
    expect(await store.value({ label: 'Recovery key' })).toBe(key);
    const seen = await page.evaluate(() => (window as unknown as { seenByPage: string[] }).seenByPage.join('|'), null);
    expect(containsKey(seen, key.slice(0, 9)), `typed characters seen by the page: ${seen}`).toBe(false);
    expect(containsKey(seen, key.slice(9)), 'typed characters seen by the page').toBe(false);
    await page.close();
  });

  if (browserName === 'chromium') {
    it("lets the portal panel ask only about its own page's device, and nothing only the popup may do", async () => {
      const personal = fleetDevice(service, 'Personal MacBook');
      const corporate = fleetDevice(service, 'Corporate MacBook');
      const page = await openDevicePage(driver, service.url, personal.deviceId);
      await page.panel('get').waitFor({ button: 'Get recovery key' });
      const { browser, tab } = chromiumDriverOf(driver, page);
      const send = (message: object) => sendFromContentScript(browser.context, tab, 'Keyward', message) as Promise<{ ok?: boolean; error?: { code: string } }>;

      const own = await send({ type: 'key.reveal', deviceId: personal.deviceId });
      expect(own.ok).toBe(true);
      for (const message of [
        { type: 'key.reveal', deviceId: corporate.deviceId },
        { type: 'device.get', deviceId: corporate.deviceId },
        { type: 'settings.set', settings: { serviceUrl: 'https://attacker.example' } },
        { type: 'vault.lock' },
        { type: 'devices.cached' },
        { type: 'auth.signOut' },
        // Clearing the clipboard: only of the key this tab was shown (by its hash), never on a popup's behalf.
        { type: 'panel.copied', sha256: '0'.repeat(64) },
        { type: 'clipboard.copied', sha256: '0'.repeat(64) },
      ]) {
        const reply = await send(message);
        expect(reply, message.type).toEqual({ ok: false, error: { code: 'forbidden', message: expect.any(String) } });
      }
      expect((await readItem(options, SETTINGS)).serviceUrl).toBe(service.url);

      // Nor can it pose as the background's unlock progress and disable the vault form.
      // A listener added now runs after the page's own: once it has heard the forged event, the page has too.
      await options.evaluate(() => {
        const g = globalThis as unknown as { chrome: { runtime: { onMessage: { addListener(listener: (message: unknown) => undefined): void } } }; keywardHeard?: unknown[] };
        const heard: unknown[] = [];
        g.keywardHeard = heard;
        g.chrome.runtime.onMessage.addListener((message) => void heard.push(message));
      }, null);
      await send({ type: 'vault.progress', fraction: 0.5 }).catch(() => undefined);
      await until(() => options.evaluate(() => (globalThis as unknown as { keywardHeard: { type?: string }[] }).keywardHeard.map((m) => m.type), null),
        (types) => types.includes('vault.progress'), 'the forged progress to reach the options page');
      // …and a rendered frame later, anything it changed would show.
      await options.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))), null);
      expect(await options.page.count('progress')).toBe(0);
      expect(await options.page.isEnabled('[data-keyward-vault-form] button[type="submit"]')).toBe(true);
      await page.close();
    });
  }

  it('forgets cached devices and keys on sign-out', async () => {
    await options.page.click({ button: 'Sign out' });
    await options.page.waitFor('[data-keyward-account="signed-out"]');
    const dump = JSON.parse(await dumpExtensionStorage(options)) as { databases: Record<string, Record<string, unknown[]>>; local: Record<string, unknown> };
    expect(dump.databases['keyward-vault'].devices).toEqual([]);
    expect(dump.databases['keyward-vault'].keys).toEqual([]);
    expect(dump.local.tokens).toBeUndefined();
    const popup = await openPopup(driver);
    await popup.page.waitFor('[data-keyward-state="signed-out"]');
    expect(await popup.page.count('[data-keyward-device]')).toBe(0);
    await popup.close();
  });
});
