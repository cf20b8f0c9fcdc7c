/**
 * Accessibility, in Chromium and in Firefox: axe-core finds no serious or critical violation
 * on the portal pages (sign-in, devices, a device page with the extension's panels —
 * idle, with an M1 message and with a revealed key — connected browsers), the admin pages,
 * the popup (device list and a revealed key) and the options page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../server/seed.ts';
import { exposePanelsToAxe, seriousViolations } from '../support/axe.ts';
import { E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import { until, type ExtensionDriver, type Tab } from '../support/driver.ts';
import { configureService, openDevicePage, openPopup } from '../support/extension.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

describe.each(E2E_BROWSERS)('accessibility in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  let options: Tab;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    options = await configureService(driver, service.url);
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  it('the portal sign-in page and the options page, signed out', async () => {
    const login = await driver.newTab();
    await login.goto(`${service.url}/login`);
    expect(await seriousViolations(login)).toEqual([]);
    await login.close();
    expect(await seriousViolations(options)).toEqual([]);
  });

  it('the options page, signed in', async () => {
    const opened = await driver.newTab();
    await opened.goto(`${service.url}/login`);
    await opened.page.fill({ label: 'Email' }, DEMO_USER.email);
    await opened.page.fill({ label: 'Password' }, DEMO_USER.password);
    await opened.page.click({ button: 'Sign in' });
    await opened.page.waitFor('main');
    await opened.close();
    // Signed in to the portal already, the extension's sign-in tab goes straight to the consent page.
    await driver.signIn(options, DEMO_USER);
    expect(await seriousViolations(options)).toEqual([]);
  });

  it('the devices list, connected browsers, and a device page with the panels (idle, M1, a revealed key)', async () => {
    const tab = await driver.newTab();
    for (const path of ['/devices', '/browsers']) {
      await tab.goto(`${service.url}${path}`);
      expect(await seriousViolations(tab), path).toEqual([]);
    }
    const windows = fleetDevice(service, 'Windows PC');
    await openDevicePage(driver, service.url, windows.deviceId, tab);
    await tab.panel('store').waitFor('[data-keyward-store]');
    await tab.panel('get').waitFor({ button: 'Get recovery key' });
    await exposePanelsToAxe(tab);
    expect(await seriousViolations(tab), 'idle panels').toEqual([]);

    const store = tab.panel('store');
    await store.fill({ label: 'Recovery key' }, '111111-222222');
    await store.fill({ label: 'Confirm recovery key' }, '111111-222223');
    await store.click({ button: 'Save' });
    await store.waitFor('[data-keyward-message="M1"]');
    await tab.panel('get').click({ button: 'Get recovery key' });
    await tab.panel('get').waitFor('[data-keyward-key]');
    expect(await seriousViolations(tab), 'M1 and a revealed key').toEqual([]);
    await tab.close();
  });

  it('the popup: device list and a revealed key', async () => {
    const popup = await openPopup(driver);
    await popup.page.waitFor('[data-keyward-device]');
    expect(await seriousViolations(popup), 'device list').toEqual([]);
    await popup.page.click({ button: 'Get recovery key: Corporate MacBook (simulated)' });
    await popup.page.waitFor('[data-keyward-key]');
    expect(await seriousViolations(popup), 'revealed key').toEqual([]);
    await popup.close();
  });

  it('the admin pages', async () => {
    const tab = await driver.newTab();
    await tab.goto(`${service.url}/devices`);
    await tab.page.click('form[action="/logout"] button');
    await tab.page.waitFor('#login-form');
    await tab.page.fill({ label: 'Email' }, DEMO_USERS.admin.email);
    await tab.page.fill({ label: 'Password' }, DEMO_USERS.admin.password);
    await tab.page.click({ button: 'Sign in' });
    await until(() => tab.url(), (url) => url.includes('/admin/'), 'the admin console');
    const corporate = fleetDevice(service, 'Corporate MacBook');
    for (const path of ['/admin/devices', `/admin/devices/${corporate.deviceId}`, '/admin/audit', '/admin/policy', '/admin/users']) {
      await tab.goto(`${service.url}${path}`);
      await tab.page.waitFor('main');
      expect(await seriousViolations(tab), path).toEqual([]);
    }
    await tab.close();
  });
});
