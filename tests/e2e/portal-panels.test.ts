/**
 * Main path in the portal, in Chromium and in Firefox: on the demo user's device page of a
 * service with a port, the extension mounts its Store and Get panels in closed shadow roots
 * page scripts cannot reach, styled by the extension's stylesheet under the portal's CSP;
 * nothing mounts on another origin; mismatched keys give M1 and send nothing; after Save the
 * page's live part (the one place outcomes are written) shows M3 (wrong key), then for the real
 * key M4 in place of that M3, without a reload; Get recovery key shows the new key with a
 * countdown (hidden after five minutes, checked on Chromium's content-script clock) and the
 * reveal is audited; a key the device rotates away is hidden at once, saying why; a silent
 * device gives M3 with the Check access button; the panels speak the portal page's language.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { chromiumDriverOf, E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import { contentScriptClock } from '../support/content-clock.ts';
import { until, type ExtensionDriver, type Tab } from '../support/driver.ts';
import { openDevicePage, openPopup, setUpExtension } from '../support/extension.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';
import { auditActions, keyWrites, screenshotPath } from '../support/evidence.ts';

describe.each(E2E_BROWSERS)('portal panels in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  let page: Tab;
  let personalMacId: string;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    const options = await setUpExtension(driver, service.url, DEMO_USER);
    await options.close();
    personalMacId = fleetDevice(service, 'Personal MacBook').deviceId;
    page = await openDevicePage(driver, service.url, personalMacId);
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  async function storeKey(key: string, confirmKey: string): Promise<void> {
    const store = page.panel('store');
    await store.fill({ label: 'Recovery key' }, key);
    await store.fill({ label: 'Confirm recovery key' }, confirmKey);
    await store.click({ button: 'Save' });
  }

  it('mounts both panels in closed shadow roots on the device page of a service with a port', async () => {
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await page.panel('store').waitFor('[data-keyward-store]');
    await page.panel('get').waitFor({ button: 'Get recovery key' });
    const seenByPage = await page.evaluate(() => Array.from(document.querySelectorAll('keyward-panel'), (host) => host.shadowRoot), null);
    expect(seenByPage).toEqual([null, null]);
    expect(await page.evaluate(() => document.querySelector('[data-keyward-panel="store"]')?.textContent, null)).toBe('');
  });

  it("styles the panels with the extension's stylesheet, which the portal's CSP does not block", async () => {
    const store = page.panel('store');
    expect(await store.style({ button: 'Save' }, 'background-color')).toBe('rgb(36, 86, 201)');
    expect(await store.style({ button: 'Save' }, 'border-radius')).toBe('6px');
    expect(await store.style('.kw-panel', 'font-family')).toMatch(/^system-ui/);
  });

  it('mounts nothing on a page from another origin (another port of the same host), even with the same markup', async () => {
    const other = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><body data-keyward-portal="1"><div data-keyward-panel="store" data-keyward-device="${personalMacId}" data-keyward-kind="filevault"></div></body>`);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const stranger = await driver.newTab();
      await stranger.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      // A portal page opened after it has its panels: the stranger's content script (if any) has had its turn.
      const later = await openDevicePage(driver, service.url, personalMacId);
      await later.panel('store').waitFor('[data-keyward-store]');
      expect(await stranger.page.count('keyward-panel')).toBe(0);
      await later.close();
      await stranger.close();
    } finally {
      other.close();
    }
  });

  it('on the personal Mac with nothing stored yet, Get points at Store recovery key', async () => {
    const get = page.panel('get');
    await get.click({ button: 'Get recovery key' });
    expect(await get.waitForText('[data-keyward-message="no_key"]'))
      .toBe('No recovery key is stored for this device yet. Store it under Store recovery key on this page.');
  });

  it('shows M1 under the confirm field for two different keys and sends nothing', async () => {
    const before = await keyWrites(service, personalMacId);
    await storeKey('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF', 'AAAA-BBBB-CCCC-DDDD-EEEE-FFF0');
    expect(await page.panel('store').waitForText('#kw-confirm-msg [data-keyward-message="M1"]')).toBe('The keys must match. Check the keys and try again.');
    expect(await keyWrites(service, personalMacId)).toEqual(before);
  });

  it('explains a malformed key precisely while typing', async () => {
    const store = page.panel('store');
    await store.fill({ label: 'Recovery key' }, 'AU2A-PHMK-WBGX-PWKX-M3X3-VAP!');
    await until(() => store.text('[data-keyward-error="key"]'), (t) => /^Character 29 \(.!.\) is not allowed/.test(t ?? ''), 'the malformed-key message');
  });

  it('ends in M3 with the wrong-key cause on the page, without a reload, when the key does not unlock the disk', async () => {
    const url = await page.url();
    await storeKey('AU2A-PHMK-WBGX-PWKX-M3X3-VAPY', 'au2a phmk wbgx pwkx m3x3 vapy');
    expect(await page.panel('store').waitForText('[data-keyward-message="sent"]')).toContain('device status at the top of this page');
    expect(await page.page.waitForText('#device-live #notice[data-notice="M3"]', 20_000)).toContain('does not unlock the disk');
    expect(await page.page.attribute('#notice', 'data-cause')).toBe('wrong_key');
    expect(await page.url()).toBe(url);
  });

  it("verifies, rotates and escrows the personal Mac's real key → M4 on the page in place of the earlier M3", async () => {
    const device = fleetDevice(service, 'Personal MacBook');
    const current = formatRecoveryKey('filevault', device.volumes[0].currentKey());
    await storeKey(current, current);
    expect(await page.page.waitForText('#device-live #notice[data-notice="M4"]', 20_000)).toContain('verified and rotated');
    expect(await page.page.count('[data-notice="M3"]')).toBe(0);
    expect(await page.page.count('#pending')).toBe(0);
    expect(await page.page.attribute('#device-status [data-key-status]', 'data-key-status')).toBe('escrowed');
    expect(await page.panel('store').count('[data-keyward-message="M4"], [data-keyward-message="M3"]')).toBe(0);
    expect(device.volumes[0].currentKey()).not.toBe(current.replace(/-/g, ''));

    const popup = await openPopup(driver);
    const status = `[data-keyward-device="${device.deviceId}"] [data-keyward-status]`;
    await popup.page.waitFor(status);
    expect(await popup.page.attribute(status, 'data-keyward-status')).toBe('escrowed');
    await popup.close();
  });

  it('Get recovery key shows the new key with a countdown and audits the reveal', async () => {
    const get = page.panel('get');
    await get.click({ button: 'Get recovery key' });
    const device = fleetDevice(service, 'Personal MacBook');
    expect(await get.waitForText('[data-keyward-key]')).toBe(formatRecoveryKey('filevault', device.volumes[0].currentKey()));
    expect(await get.text('[data-keyward-countdown]')).toMatch(/Hidden in (5:00|4:5\d)/);
    expect(await auditActions(service, device.deviceId)).toContain('key.revealed');
  });

  if (browserName === 'chromium') {
    it('hides the revealed key after five minutes (on the content script\'s clock)', async () => {
      const { browser, tab } = chromiumDriverOf(driver, page);
      const scrollY = await tab.evaluate(() => window.scrollY);
      const top = (await tab.locator('#get').boundingBox())!;
      const bottom = (await tab.locator('#store').boundingBox())!;
      const clip = { x: top.x - 16, y: top.y + scrollY - 16, width: top.width + 32, height: bottom.y + bottom.height - top.y + 32 };
      await tab.screenshot({ path: screenshotPath('panel.png'), clip, fullPage: true });

      const get = page.panel('get');
      const clock = await contentScriptClock(browser.context, tab, 'Keyward');
      await clock.fastForward(280_000);
      await until(() => get.text('[data-keyward-countdown]'), (t) => /Hidden in 0:\d\d/.test(t ?? ''), 'the countdown under a minute');
      await clock.fastForward(21_000);
      await get.waitFor('[data-keyward-message="hidden"]');
      expect(await get.count('[data-keyward-key]')).toBe(0);
      await clock.detach();
    });
  }

  it('hides a shown key the moment the device rotates it away, saying why', async () => {
    const get = page.panel('get');
    if ((await get.count('[data-keyward-key]')) === 0) await get.click({ button: 'Get recovery key' });
    const device = fleetDevice(service, 'Personal MacBook');
    const shownKey = await get.waitForText('[data-keyward-key]');
    const other = await openDevicePage(driver, service.url, device.deviceId);
    await other.page.click('#rotate-confirm summary');
    await other.page.click('#rotate');
    await other.page.waitFor('#pending, #notice[data-origin="owner_rotation"]');
    await other.close();
    expect(await get.waitForText('[data-keyward-message="replaced"]', 20_000)).toBe('This key was replaced by a new one — choose Get recovery key.');
    expect(await get.count('[data-keyward-key]')).toBe(0);
    expect(formatRecoveryKey('filevault', device.volumes[0].currentKey())).not.toBe(shownKey);
    expect(await page.page.waitForText('#notice[data-notice="M4"]')).toContain('rotated as you asked');
  });

  it('shows M3 "hasn\'t checked in" with Check access when the device is silent, then M4 once it checks in', async () => {
    const corporate = fleetDevice(service, 'Corporate MacBook');
    await service.db.updateTable('org').set({ checkin_threshold_minutes: 0 }).execute();
    await service.fleet!.stop();
    await openDevicePage(driver, service.url, corporate.deviceId, page);
    await storeKey(formatRecoveryKey('filevault', corporate.volumes[0].currentKey()), corporate.volumes[0].currentKey());
    expect(await page.page.waitForText('#notice[data-notice="M3"]', 20_000)).toContain("The device hasn't checked in for a while. Choose Check access below");
    expect(await page.page.attribute('#notice', 'data-cause')).toBe('not_checked_in');
    await page.page.click('#notice-check-access');
    expect(await page.page.waitForText('#info')).toBe('The device was asked to check in now.');

    await corporate.checkInNow();
    await page.page.waitFor('#notice[data-notice="M4"]', 20_000);
  });

  it("speaks the portal page's language (Swedish): labels and M1", async () => {
    await page.page.select('header select[name="locale"]', 'sv');
    await page.page.click('header form:has(select[name="locale"]) button');
    await until(() => page.evaluate(() => document.body.dataset.keywardLocale, null), (locale) => locale === 'sv', 'the Swedish page');
    const store = page.panel('store');
    await store.waitFor({ label: 'Bekräfta återställningsnyckel' });
    await store.fill({ label: 'Återställningsnyckel' }, 'AAAA-BBBB-CCCC-DDDD-EEEE-FFFF');
    await store.fill({ label: 'Bekräfta återställningsnyckel' }, 'AAAA-BBBB-CCCC-DDDD-EEEE-FFF0');
    await store.click({ button: 'Spara' });
    expect(await store.waitForText('[data-keyward-message="M1"]')).toBe('Nycklarna måste överensstämma. Kontrollera nycklarna och försök igen.');
  });
});
