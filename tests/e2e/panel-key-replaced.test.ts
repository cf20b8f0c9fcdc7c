/**
 * Issue #9, point 2, with the extension installed, in Chromium and in Firefox: a key shown in
 * the portal's Get panel is hidden the moment it stops being the active key, with the one-line
 * reason — after the owner stores a key (the device verifies and rotates it), and after IT views
 * the key (the service queues a rotation and the device rotates within seconds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { DEMO_USERS } from '../../server/seed.ts';
import { E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import type { ExtensionDriver, Tab } from '../support/driver.ts';
import { openDevicePage, setUpExtension } from '../support/extension.ts';
import { signInOverHttp } from '../support/oauth-http.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

const ADMIN = { email: DEMO_USERS.admin.email, password: DEMO_USERS.admin.password };
const REPLACED = 'This key was replaced by a new one — choose Get recovery key.';

describe.each(E2E_BROWSERS)('a key shown in the panel is hidden once it is replaced, in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    await (await setUpExtension(driver, service.url, DEMO_USER)).close();
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  async function storeKey(page: Tab, key: string): Promise<void> {
    const store = page.panel('store');
    await store.fill({ label: 'Recovery key' }, key);
    await store.fill({ label: 'Confirm recovery key' }, key);
    await store.click({ button: 'Save' });
  }

  async function getKey(page: Tab): Promise<string> {
    const get = page.panel('get');
    await get.click({ button: 'Get recovery key' });
    return get.waitForText('[data-keyward-key]', 20_000);
  }

  it('Get, then Store (the device rotates it): the shown key is hidden at once, saying why', async () => {
    const personal = fleetDevice(service, 'Personal MacBook');
    const page = await openDevicePage(driver, service.url, personal.deviceId);
    // Nothing is stored for the personal Mac yet: store its key once, so there is one to get.
    await storeKey(page, formatRecoveryKey('filevault', personal.volumes[0].currentKey()));
    await page.page.waitFor('#device-live #notice[data-notice="M4"]', 20_000);
    const firstM4 = await page.page.attribute('#notice', 'data-at');

    const shown = await getKey(page);
    expect(shown).toBe(formatRecoveryKey('filevault', personal.volumes[0].currentKey()));
    await storeKey(page, shown);
    const get = page.panel('get');
    expect(await get.waitForText('[data-keyward-message="replaced"]', 20_000)).toBe(REPLACED);
    expect(await get.count('[data-keyward-key]')).toBe(0);
    expect(formatRecoveryKey('filevault', personal.volumes[0].currentKey())).not.toBe(shown);
    expect(await page.page.attribute('#notice', 'data-at')).not.toBe(firstM4);
    await page.close();
  });

  it('IT views it (a rotation is queued, the device rotates within seconds): the owner’s shown key is hidden', async () => {
    const corporate = fleetDevice(service, 'Corporate MacBook');
    const page = await openDevicePage(driver, service.url, corporate.deviceId);
    const shown = await getKey(page);

    const tokens = await signInOverHttp(service.url, ADMIN);
    const viewed = await fetch(`${service.url}/api/v1/devices/${encodeURIComponent(corporate.deviceId)}/reveal`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'Owner locked out at the front desk' }),
    });
    expect(viewed.status).toBe(200);
    expect((await viewed.json() as { key: string }).key).toBe(shown);

    const get = page.panel('get');
    expect(await get.waitForText('[data-keyward-message="replaced"]', 20_000)).toBe(REPLACED);
    expect(await get.count('[data-keyward-key]')).toBe(0);
    expect(formatRecoveryKey('filevault', corporate.volumes[0].currentKey())).not.toBe(shown);
    await page.close();
  });
});
