/**
 * Issue #9, points 2 and 3, on the plain portal (no extension) in Chromium: after Save the
 * device page follows the device without a reload — "Saving…", then M4 in its place, never
 * both; a key shown on the page is hidden the moment IT's view of it has made the device
 * rotate it, saying why (and its Copy goes with it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { DEMO_USERS } from '../../server/seed.ts';
import { launchPlainChromium, signedInContext } from '../support/plain-portal.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

const ADMIN = { email: DEMO_USERS.admin.email, password: DEMO_USERS.admin.password };

describe('the plain portal follows the device without a reload (Chromium)', () => {
  let service: TestService;
  let browser: Browser;

  beforeAll(async () => {
    [service, browser] = await Promise.all([startTestService(), launchPlainChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  /** Marks the loaded document, so a reload (which would drop the mark) is caught. */
  async function markDocument(page: Page): Promise<void> {
    await page.evaluate(() => document.documentElement.setAttribute('data-test-loaded', '1'));
  }

  async function sameDocument(page: Page): Promise<boolean> {
    return page.evaluate(() => document.documentElement.getAttribute('data-test-loaded') === '1');
  }

  it('after Save the page shows "Saving…", then M4 in its place without a reload', async () => {
    const { context, page } = await signedInContext(browser, service.url, DEMO_USER);
    const device = fleetDevice(service, 'Personal MacBook');
    await page.goto(`${service.url}/devices/${device.deviceId}`);
    const current = formatRecoveryKey('filevault', device.volumes[0].currentKey());
    await page.fill('#key', current);
    await page.fill('#confirmKey', current);
    await Promise.all([page.waitForURL(`${service.url}/devices/${device.deviceId}`), page.click('#store-form button[type=submit]')]);
    await markDocument(page);
    // Either still saving, or already done: never both on screen.
    expect(await page.locator('#pending, #notice[data-notice="M4"]').count()).toBe(1);
    await page.waitForSelector('#device-live #notice[data-notice="M4"]', { timeout: 20_000 });
    expect(await page.textContent('#notice')).toContain('verified and rotated');
    expect(await page.locator('#pending').count()).toBe(0);
    expect(await page.getAttribute('#device-status [data-key-status]', 'data-key-status')).toBe('escrowed');
    expect(await sameDocument(page)).toBe(true);
    await context.close();
  });

  it('a key shown on the page is hidden the moment IT has viewed it and the device rotated it, saying why', async () => {
    const owner = await signedInContext(browser, service.url, DEMO_USER);
    const device = fleetDevice(service, 'Corporate MacBook');
    await owner.page.goto(`${service.url}/devices/${device.deviceId}`);
    await owner.page.click('#get-form button[type=submit]');
    await owner.page.waitForSelector('#revealed-key');
    const shown = (await owner.page.textContent('#revealed-key'))?.trim();
    expect(await owner.page.isVisible('#copy-key')).toBe(true);
    await markDocument(owner.page);

    const itAdmin = await signedInContext(browser, service.url, ADMIN);
    await itAdmin.page.goto(`${service.url}/admin/devices/${device.deviceId}`);
    await itAdmin.page.fill('#reason', 'Owner locked out at the front desk');
    await itAdmin.page.click('#reveal-form button[type=submit]');
    await itAdmin.page.waitForSelector('#revealed-key');
    await itAdmin.context.close();

    await owner.page.waitForFunction(() => document.getElementById('revealed-key') === null, undefined, { timeout: 20_000 });
    expect(await owner.page.textContent('#revealed-hidden')).toBe('This key was replaced by a new one — choose Get recovery key.');
    expect(await owner.page.isVisible('#copy-key')).toBe(false);
    expect(formatRecoveryKey('filevault', device.volumes[0].currentKey())).not.toBe(shown);
    expect(await sameDocument(owner.page)).toBe(true);
    await owner.context.close();
  });
});
