/**
 * Issue #9, point 10, in Chromium and in Firefox: the extension's Store panel keeps the plain
 * form's hint under "Recovery key" ("The 24 letters and digits…"), word for word, tied to the
 * field for assistive technology.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import type { ExtensionDriver, Tab } from '../support/driver.ts';
import { openDevicePage, setUpExtension } from '../support/extension.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

describe.each(E2E_BROWSERS)('the Store panel\'s key hint in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  let page: Tab;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    const options = await setUpExtension(driver, service.url, DEMO_USER);
    await options.close();
    page = await openDevicePage(driver, service.url, fleetDevice(service, 'Personal MacBook').deviceId);
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  it('shows the plain form\'s hint under Recovery key, and the field is described by it', async () => {
    const plainHint = await page.evaluate(() => document.getElementById('key-hint')?.textContent ?? '', null);
    expect(plainHint).toBe('The 24 letters and digits of the FileVault recovery key. Dashes and spaces are optional.');
    const store = page.panel('store');
    expect(await store.waitForText('[data-keyward-hint]')).toBe(plainHint);
    const describedBy = await store.attribute({ label: 'Recovery key' }, 'aria-describedby');
    expect(describedBy?.split(' ')).toContain(await store.attribute('[data-keyward-hint]', 'id'));
  });
});
