/**
 * Recovery keys stay where they belong: after storing three keys in the portal panel and
 * revealing keys (cached encrypted in the vault), none of them — in any grouping or case —
 * is in IndexedDB, storage.local, storage.session, or the portal page outside the shadow root,
 * and the portal page's own (bubbling) event listeners never see a key typed into a panel;
 * the portal content script can reveal only the key of its own page's device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatRecoveryKey, generateRecoveryKey } from '../../lib/keys/index.ts';
import { launchWithExtension, type ExtensionBrowser } from '../support/browser.ts';
import { configureService, containsKey, dumpExtensionStorage, openPopup, setVaultPassphrase, signInExtension } from '../support/extension.ts';
import { sendFromContentScript } from '../support/content-world.ts';
import { openDevicePage, panel } from '../support/portal.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

let service: TestService;
let browser: ExtensionBrowser;
let options: Page;
let portal: Page;
const keys: string[] = [];

beforeAll(async () => {
  [service, browser] = await Promise.all([startTestService(), launchWithExtension()]);
  options = await configureService(browser, service.url);
  await signInExtension(browser, options, DEMO_USER);
  await setVaultPassphrase(options, 'a long vault passphrase');
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

async function storeAndWait(key: string, outcome: 'M3' | 'M4'): Promise<void> {
  const store = panel(portal, 'store');
  await store.getByLabel('Recovery key', { exact: true }).fill(key);
  await store.getByLabel('Confirm recovery key').fill(key.toLowerCase());
  await store.getByRole('button', { name: 'Save' }).click();
  await store.locator(`[data-keyward-message="${outcome}"]`).waitFor({ timeout: 20_000 });
}

describe('no key leaves the shadow root or the vault in clear', () => {
  it('stores three keys and reveals keys through the panel and the popup', async () => {
    const personal = fleetDevice(service, 'Personal MacBook');
    portal = await browser.context.newPage();
    await openDevicePage(portal, service.url, personal.deviceId);
    for (const wrong of [generateRecoveryKey('filevault'), generateRecoveryKey('filevault')]) {
      keys.push(formatRecoveryKey('filevault', wrong));
      await storeAndWait(formatRecoveryKey('filevault', wrong), 'M3');
    }
    const right = formatRecoveryKey('filevault', personal.volumes[0].currentKey());
    keys.push(right);
    await storeAndWait(right, 'M4');

    await panel(portal, 'get').getByRole('button', { name: 'Get recovery key' }).click();
    const revealed = (await panel(portal, 'get').locator('[data-keyward-key]').textContent()) ?? '';
    expect(revealed).toBe(formatRecoveryKey('filevault', personal.volumes[0].currentKey()));
    keys.push(revealed);

    const popup = await openPopup(browser);
    await popup.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
    const corporateKey = (await popup.locator('[data-keyward-key]').textContent()) ?? '';
    expect(corporateKey).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    keys.push(corporateKey);
    expect(keys).toHaveLength(5);
  });

  it('keeps IndexedDB, storage.local and storage.session free of every key', async () => {
    const dump = await dumpExtensionStorage(options);
    expect(dump).toContain('"keys":[{');
    expect(dump).toContain('keyward-vault');
    for (const key of keys) expect(containsKey(dump, key), `key ${keys.indexOf(key)} in extension storage`).toBe(false);
  });

  it('keeps the portal page outside the shadow root free of every key', async () => {
    const lightDom = await portal.content();
    const shadowText = await portal.locator('[data-keyward-panel="get"] keyward-panel').evaluate((host) => host.shadowRoot?.textContent ?? '');
    expect(containsKey(shadowText, keys[3])).toBe(true);
    expect(lightDom).toContain('data-keyward-panel="store"');
    for (const key of keys) expect(containsKey(lightDom, key), `key ${keys.indexOf(key)} in the page DOM`).toBe(false);
    expect(containsKey(portal.url(), keys[2])).toBe(false);
  });

  it("never hands a typed or inserted key to the portal page's own event listeners", async () => {
    const device = fleetDevice(service, 'Personal MacBook');
    const page = await browser.context.newPage();
    await openDevicePage(page, service.url, device.deviceId);
    const keyField = panel(page, 'store').getByLabel('Recovery key', { exact: true });
    await keyField.waitFor();
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
    });
    const key = formatRecoveryKey('filevault', generateRecoveryKey('filevault'));
    await keyField.pressSequentially(key.slice(0, 9));
    await keyField.focus();
    await page.keyboard.insertText(key.slice(9));
    expect(await keyField.inputValue()).toBe(key);
    const seen = await page.evaluate(() => (window as unknown as { seenByPage: string[] }).seenByPage.join('|'));
    expect(containsKey(seen, key.slice(0, 9)), `typed characters seen by the page: ${seen}`).toBe(false);
    expect(containsKey(seen, key.slice(9)), 'inserted text seen by the page').toBe(false);
    await page.close();
  });

  it("lets the portal panel ask only about its own page's device, and nothing only the popup may do", async () => {
    const personal = fleetDevice(service, 'Personal MacBook');
    const corporate = fleetDevice(service, 'Corporate MacBook');
    const page = await browser.context.newPage();
    await openDevicePage(page, service.url, personal.deviceId);
    await panel(page, 'get').getByRole('button', { name: 'Get recovery key' }).waitFor();
    const send = (message: object) => sendFromContentScript(browser.context, page, 'Keyward', message) as Promise<{ ok?: boolean; error?: { code: string } }>;

    const own = await send({ type: 'key.reveal', deviceId: personal.deviceId });
    expect(own.ok).toBe(true);
    for (const message of [
      { type: 'key.reveal', deviceId: corporate.deviceId },
      { type: 'device.get', deviceId: corporate.deviceId },
      { type: 'settings.set', settings: { serviceUrl: 'https://attacker.example' } },
      { type: 'vault.lock' },
      { type: 'devices.cached' },
      { type: 'auth.signOut' },
    ]) {
      const reply = await send(message);
      expect(reply, message.type).toEqual({ ok: false, error: { code: 'forbidden', message: expect.any(String) } });
    }
    const worker = await browser.serviceWorker();
    const settings = await worker.evaluate(() => (globalThis as unknown as { chrome: { storage: { local: { get(k: string): Promise<{ settings?: { serviceUrl: string } }> } } } }).chrome.storage.local.get('settings'));
    expect(settings.settings?.serviceUrl).toBe(service.url);

    // Nor can it pose as the background's unlock progress and disable the vault form.
    await send({ type: 'vault.progress', fraction: 0.5 }).catch(() => undefined);
    await options.waitForTimeout(300);
    expect(await options.locator('progress').count()).toBe(0);
    expect(await options.locator('[data-keyward-vault-form] button[type="submit"]').isEnabled()).toBe(true);
    await page.close();
  });

  it('forgets cached devices and keys on sign-out', async () => {
    await options.getByRole('button', { name: 'Sign out' }).click();
    await options.locator('[data-keyward-account="signed-out"]').waitFor();
    const dump = JSON.parse(await dumpExtensionStorage(options)) as { databases: Record<string, Record<string, unknown[]>>; local: Record<string, unknown> };
    expect(dump.databases['keyward-vault'].devices).toEqual([]);
    expect(dump.databases['keyward-vault'].keys).toEqual([]);
    expect(dump.local.tokens).toBeUndefined();
    const popup = await openPopup(browser);
    await popup.locator('[data-keyward-state="signed-out"]').waitFor();
    expect(await popup.locator('[data-keyward-device]').count()).toBe(0);
  });
});
