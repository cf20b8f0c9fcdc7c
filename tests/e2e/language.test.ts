/**
 * One language choice for extension and portal (issue #9), in Chromium and in Firefox: with no
 * choice made, the popup follows the browser's UI language; Swedish picked in the extension's
 * options is the portal's language after a reload; Japanese picked on the portal is the
 * popup's after a sync; "Same as the browser" in the options goes back to the browser's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locale } from '../../lib/api/contract.ts';
import * as messages from '../../lib/i18n/extension/index.ts';
import { pickLocale } from '../../lib/i18n/locales.ts';
import { E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import { until, type ExtensionDriver, type Tab } from '../support/driver.ts';
import { openDevicePage, openPopup, readItem, setUpExtension } from '../support/extension.ts';
import { SETTINGS, SYNC_STATUS } from '../../entrypoints/background/storage-keys.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

describe.each(E2E_BROWSERS)('language choice in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  let options: Tab;
  let browserLocale: Locale;
  let deviceId: string;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    options = await setUpExtension(driver, service.url, DEMO_USER);
    deviceId = fleetDevice(service, 'Personal MacBook').deviceId;
    browserLocale = pickLocale(await options.evaluate(uiLanguageInPage, null));
  }, 60_000);

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  const lang = (tab: Tab) => tab.evaluate(() => document.documentElement.lang, null);

  async function popupIn(locale: Locale): Promise<Tab> {
    const popup = await openPopup(driver);
    expect(await lang(popup)).toBe(locale);
    expect(await popup.page.text('[data-keyward-action="sync"]')).toBe(messages[locale]['ui.sync_now']);
    return popup;
  }

  it('with no choice made, the popup follows the browser UI language', async () => {
    const popup = await popupIn(browserLocale);
    await popup.close();
  });

  it('Swedish picked in the options is the portal\'s language after a reload', async () => {
    await options.page.select('#kw-language', 'sv');
    await until(() => lang(options), (locale) => locale === 'sv', 'the options page in Swedish');
    expect(await options.page.waitForText('#kw-language-hint')).toBe(messages.sv['ext.language_hint']);
    const portal = await openDevicePage(driver, service.url, deviceId);
    await until(async () => { await portal.reload(); return lang(portal); }, (locale) => locale === 'sv', 'the portal in Swedish');
    // The panels speak it too.
    await portal.panel('store').waitFor({ label: messages.sv['ui.confirm_key'] });
    await portal.close();
    const popup = await popupIn('sv');
    await popup.close();
  });

  it('Japanese picked on the portal is the popup\'s language after a sync', async () => {
    const portal = await openDevicePage(driver, service.url, deviceId);
    await portal.page.select('header select[name="locale"]', 'ja');
    await portal.page.click('header form:has(select[name="locale"]) button');
    await until(() => lang(portal), (locale) => locale === 'ja', 'the portal in Japanese');
    await portal.close();

    const popup = await openPopup(driver);
    await popup.page.click('[data-keyward-action="sync"]');
    await until(() => readItem(popup, SETTINGS), (settings) => settings.locale === 'ja', 'the synced language');
    await popup.close();
    const synced = await popupIn('ja');
    await synced.close();
    await options.reload();
    await until(() => lang(options), (locale) => locale === 'ja', 'the options page in Japanese');
    expect(await options.page.value('#kw-language')).toBe('ja');
  });

  it('"Same as the browser" in the options goes back to the browser UI language', async () => {
    await options.page.select('#kw-language', '');
    await until(() => lang(options), (locale) => locale === browserLocale, 'the options page in the browser\'s language');
    const popup = await popupIn(browserLocale);
    // A sync keeps it: the account's choice was cleared, not left to come back.
    const before = JSON.stringify(await readItem(popup, SYNC_STATUS));
    await popup.page.click('[data-keyward-action="sync"]');
    await until(() => readItem(popup, SYNC_STATUS), (status) => JSON.stringify(status) !== before, 'a finished sync');
    expect(await readItem(popup, SETTINGS)).toMatchObject({ locale: null });
    await popup.close();
    const again = await popupIn(browserLocale);
    await again.close();
  });
});

/** `i18n.getUILanguage()` as an extension page sees it (runs in the page, so self-contained). */
function uiLanguageInPage(): string {
  const api: unknown = Reflect.get(globalThis, 'browser') ?? Reflect.get(globalThis, 'chrome');
  const i18n: unknown = typeof api === 'object' && api !== null ? Reflect.get(api, 'i18n') : null;
  const getUILanguage: unknown = typeof i18n === 'object' && i18n !== null ? Reflect.get(i18n, 'getUILanguage') : null;
  return typeof getUILanguage === 'function' ? String(getUILanguage.call(i18n)) : '';
}
