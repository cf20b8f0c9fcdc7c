/**
 * Copy in the portal's Get panel, in Chromium and in Firefox: the key goes to the clipboard, the
 * panel says when it will be cleared, and the background clears it then — but not when the person
 * copied something else since. The key stays inside the panel's closed shadow root (never in the
 * page's DOM) and out of the extension's storage. In Chromium also: the background refuses a
 * content script's clearing request for a hash it never revealed to that tab (a forged hash, or
 * the right key's hash from another tab), and such a request leaves the clipboard alone.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumDriverOf, E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import { sendFromContentScript } from '../support/content-world.ts';
import { until, type ExtensionDriver, type Tab } from '../support/driver.ts';
import {
  containsKey, dumpExtensionStorage, openDevicePage, openOptions, sendFromExtensionPage, setUpExtension, watchClipboardClear,
} from '../support/extension.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

const CLIPBOARD_SECONDS = 5;

const readClipboard = (tab: Tab) => tab.evaluate(() => navigator.clipboard.readText(), null);
const writeClipboard = (tab: Tab, text: string) => tab.evaluate((t) => navigator.clipboard.writeText(t), text);

describe.each(E2E_BROWSERS)('Copy in the portal panel, in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  let options: Tab;
  let portal: Tab;
  let key: string;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    options = await setUpExtension(driver, service.url, DEMO_USER);
    const saved = await sendFromExtensionPage(options, 'settings.set', { settings: { clipboardSeconds: CLIPBOARD_SECONDS } });
    expect(saved.ok).toBe(true);
    portal = await openDevicePage(driver, service.url, fleetDevice(service, 'Corporate MacBook').deviceId);
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  it('copies the shown key, says when the clipboard is cleared, and clears it then', async () => {
    const get = portal.panel('get');
    await get.click({ button: 'Get recovery key' });
    key = await get.waitForText('[data-keyward-key]', 20_000);
    expect(key).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    await get.click({ button: 'Copy' });
    expect(await get.waitForText('[data-keyward-copy-note]')).toBe(`Copied. The clipboard is cleared in ${CLIPBOARD_SECONDS} s.`);

    const reader = await openOptions(driver);
    expect(await readClipboard(reader)).toBe(key);
    await until(() => readClipboard(reader), (text) => text === '', 'the clipboard to be cleared', (CLIPBOARD_SECONDS + 10) * 1000);
    await reader.close();
  });

  it('leaves the clipboard alone when something else was copied since', async () => {
    const get = portal.panel('get');
    await get.click({ button: 'Copy' });
    await get.waitFor('[data-keyward-copy-note]');
    const reader = await openOptions(driver);
    const cleared = await watchClipboardClear(driver, reader);
    await until(() => readClipboard(reader), (text) => text === key, 'the key on the clipboard');
    await writeClipboard(reader, 'a note the user copied');
    await cleared();
    expect(await readClipboard(reader)).toBe('a note the user copied');
    await reader.close();
  });

  it('keeps the key out of the page’s DOM and out of the extension’s storage', async () => {
    const reachable = await portal.evaluate(() => [document.documentElement.outerHTML, document.body.innerText].join('\n'), null);
    expect(reachable).toContain('data-keyward-panel="get"');
    expect(containsKey(reachable, key)).toBe(false);
    expect(containsKey(await dumpExtensionStorage(options), key)).toBe(false);
  });

  if (browserName === 'chromium') {
    it('refuses a content script’s clearing request for a hash it did not reveal to that tab, and clears nothing', async () => {
      const reader = await openOptions(driver);
      const note = 'another note the user copied';
      await writeClipboard(reader, note);
      const forged = createHash('sha256').update(note).digest('hex');
      const ofKey = createHash('sha256').update(key).digest('hex');
      const refused = { ok: false, error: { code: 'forbidden', message: expect.any(String) } };

      const shown = chromiumDriverOf(driver, portal);
      expect(await sendFromContentScript(shown.browser.context, shown.tab, 'Keyward', { type: 'panel.copied', sha256: forged })).toEqual(refused);
      expect(await sendFromContentScript(shown.browser.context, shown.tab, 'Keyward', { type: 'clipboard.copied', sha256: forged })).toEqual(refused);

      // Another tab on the same device's page was never shown the key: the right hash does not help it.
      const other = await openDevicePage(driver, service.url, fleetDevice(service, 'Corporate MacBook').deviceId);
      await other.panel('get').waitFor({ button: 'Get recovery key' });
      const stranger = chromiumDriverOf(driver, other);
      expect(await sendFromContentScript(stranger.browser.context, stranger.tab, 'Keyward', { type: 'panel.copied', sha256: ofKey })).toEqual(refused);
      await other.close();

      // The tab that was shown the key may: proof that the refusals above were about the hash and the tab.
      const accepted = await sendFromContentScript(shown.browser.context, shown.tab, 'Keyward', { type: 'panel.copied', sha256: ofKey });
      expect(accepted).toEqual({ ok: true, clearAfterSeconds: CLIPBOARD_SECONDS });
      const cleared = await watchClipboardClear(driver, reader);
      await cleared();
      expect(await readClipboard(reader)).toBe(note);
      await reader.close();
    });
  }
});
