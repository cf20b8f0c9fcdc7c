/**
 * Main path in the portal (issue #2): the demo user's device page shows the extension's
 * Store and Get panels in shadow roots; mismatched keys give M1 and send nothing; a wrong
 * key ends in M3 (wrong key); the personal Mac's real key is verified, rotated and escrowed
 * by its simulated agent → M4; Get recovery key shows the new key with a countdown, hides it
 * after five minutes, and the reveal is in the service's audit log.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { launchWithExtension, type ExtensionBrowser } from '../support/browser.ts';
import { contentScriptClock } from '../support/content-clock.ts';
import { configureService, openPopup, signInExtension } from '../support/extension.ts';
import { openDevicePage, panel } from '../support/portal.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';
import { auditActions, keyWrites, screenshotPath } from '../support/evidence.ts';

let service: TestService;
let browser: ExtensionBrowser;
let page: Page;
let personalMacId: string;

beforeAll(async () => {
  [service, browser] = await Promise.all([startTestService(), launchWithExtension()]);
  const options = await configureService(browser, service.url);
  await signInExtension(browser, options, DEMO_USER);
  await options.close();
  personalMacId = fleetDevice(service, 'Personal MacBook').deviceId;
  page = await browser.context.newPage();
  await openDevicePage(page, service.url, personalMacId);
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

async function storeKey(key: string, confirmKey: string): Promise<void> {
  const store = panel(page, 'store');
  await store.getByLabel('Recovery key', { exact: true }).fill(key);
  await store.getByLabel('Confirm recovery key').fill(confirmKey);
  await store.getByRole('button', { name: 'Save' }).click();
}

/** The area of the page holding the Get and Store sections (for the screenshot). */
async function sectionsBox(p: Page) {
  const scrollY = await p.evaluate(() => window.scrollY);
  const top = (await p.locator('#get').boundingBox())!;
  const bottom = (await p.locator('#store').boundingBox())!;
  return { x: top.x - 16, y: top.y + scrollY - 16, width: top.width + 32, height: bottom.y + bottom.height - top.y + 32 };
}

describe('portal panels', () => {
  it('mounts the Store panel inside a shadow root on the device page', async () => {
    const host = page.locator('[data-keyward-panel="store"] keyward-panel');
    await expect.poll(() => host.evaluate((el) => el.shadowRoot !== null && el.shadowRoot.querySelector('[data-keyward-store]') !== null)).toBe(true);
    expect(await page.locator('[data-keyward-panel="store"]').evaluate((el) => el.textContent)).toBe('');
  });

  it('mounts nothing on a page from another origin, even with the same markup', async () => {
    const other = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><body data-keyward-portal="1"><div data-keyward-panel="store" data-keyward-device="${personalMacId}" data-keyward-kind="filevault"></div></body>`);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const stranger = await browser.context.newPage();
    await stranger.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
    await page.locator('[data-keyward-panel="store"] keyward-panel').waitFor();
    await stranger.waitForTimeout(500);
    expect(await stranger.locator('keyward-panel').count()).toBe(0);
    await stranger.close();
    other.close();
  });

  it("says no key was found, with the organisation's support contact, before any key is stored", async () => {
    const get = panel(page, 'get');
    await get.getByRole('button', { name: 'Get recovery key' }).click();
    const noKey = get.locator('[data-keyward-message="no_key"]');
    await noKey.waitFor();
    expect(await noKey.textContent()).toBe('No recovery key was found for this device. Contact IT support: it-support@demo.keyward.test, +46 8 123 456 00');
  });

  it('shows M1 under the confirm field for two different keys and sends nothing', async () => {
    const before = await keyWrites(service, personalMacId);
    await storeKey('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF', 'AAAA-BBBB-CCCC-DDDD-EEEE-FFF0');
    const m1 = panel(page, 'store').locator('#kw-confirm-msg [data-keyward-message="M1"]');
    await expect.poll(() => m1.textContent()).toBe('The keys must match. Check the keys and try again.');
    await page.waitForTimeout(300);
    expect(await keyWrites(service, personalMacId)).toEqual(before);
  });

  it('explains a malformed key precisely while typing', async () => {
    const store = panel(page, 'store');
    await store.getByLabel('Recovery key', { exact: true }).fill('AU2A-PHMK-WBGX-PWKX-M3X3-VAP!');
    await expect.poll(() => store.locator('[data-keyward-error="key"]').textContent()).toMatch(/^Character 29 \(.!.\) is not allowed/);
  });

  it('ends in M3 with the wrong-key cause when the key does not unlock the disk', async () => {
    await storeKey('AU2A-PHMK-WBGX-PWKX-M3X3-VAPY', 'au2a phmk wbgx pwkx m3x3 vapy');
    const m3 = panel(page, 'store').locator('[data-keyward-message="M3"]');
    await m3.waitFor({ timeout: 20_000 });
    expect(await m3.getAttribute('data-keyward-cause')).toBe('wrong_key');
    expect(await m3.textContent()).toContain('does not unlock the disk');
  });

  it("verifies, rotates and escrows the personal Mac's real key → M4", async () => {
    const device = fleetDevice(service, 'Personal MacBook');
    const current = formatRecoveryKey('filevault', device.volumes[0].currentKey());
    await storeKey(current, current);
    const m4 = panel(page, 'store').locator('[data-keyward-message="M4"]');
    await m4.waitFor({ timeout: 20_000 });
    expect(await m4.textContent()).toContain('verified and rotated');
    expect(device.volumes[0].currentKey()).not.toBe(current.replace(/-/g, ''));

    const popup = await openPopup(browser);
    const row = popup.locator('[data-keyward-device]', { hasText: 'Personal MacBook' });
    expect(await row.locator('[data-keyward-status]').getAttribute('data-keyward-status')).toBe('escrowed');
    await popup.close();
  });

  it('Get recovery key shows the new key with a countdown, hides it after five minutes, and audits the reveal', async () => {
    const get = panel(page, 'get');
    await get.getByRole('button', { name: 'Get recovery key' }).click();
    const shown = get.locator('[data-keyward-key]');
    await shown.waitFor();
    const device = fleetDevice(service, 'Personal MacBook');
    expect(await shown.textContent()).toBe(formatRecoveryKey('filevault', device.volumes[0].currentKey()));
    expect(await get.locator('[data-keyward-countdown]').textContent()).toMatch(/Hidden in (5:00|4:5\d)/);
    await page.screenshot({ path: screenshotPath('panel.png'), clip: await sectionsBox(page), fullPage: true });

    const clock = await contentScriptClock(browser.context, page, 'Keyward');
    await clock.fastForward(280_000);
    await expect.poll(() => get.locator('[data-keyward-countdown]').textContent()).toMatch(/Hidden in 0:\d\d/);
    await clock.fastForward(21_000);
    await get.locator('[data-keyward-message="hidden"]').waitFor();
    expect(await get.locator('[data-keyward-key]').count()).toBe(0);
    await clock.detach();

    expect(await auditActions(service, device.deviceId)).toContain('key.revealed');
  });

  it('shows M3 "hasn\'t checked in" with Check access when the device is silent, then M4 once it checks in', async () => {
    const corporate = fleetDevice(service, 'Corporate MacBook');
    await service.db.updateTable('org').set({ checkin_threshold_minutes: 0 }).execute();
    await service.fleet!.stop();
    await openDevicePage(page, service.url, corporate.deviceId);
    await storeKey(formatRecoveryKey('filevault', corporate.volumes[0].currentKey()), corporate.volumes[0].currentKey());
    const m3 = panel(page, 'store').locator('[data-keyward-message="M3"]');
    await m3.waitFor({ timeout: 20_000 });
    expect(await m3.getAttribute('data-keyward-cause')).toBe('not_checked_in');
    expect(await m3.textContent()).toContain("The device hasn't checked in for a while.");
    await m3.getByRole('button', { name: 'Check access' }).click();
    await m3.getByText('The device was asked to check in now.').waitFor();

    await corporate.checkInNow();
    await panel(page, 'store').locator('[data-keyward-message="M4"]').waitFor({ timeout: 20_000 });
  });

  it('speaks the portal page\'s language (Swedish): labels and M1', async () => {
    await page.locator('header select[name="locale"]').selectOption('sv');
    await Promise.all([page.waitForURL(/\/devices\//), page.locator('header form:has(select[name="locale"]) button').click()]);
    expect(await page.evaluate(() => document.body.dataset.keywardLocale)).toBe('sv');
    const store = panel(page, 'store');
    await store.getByLabel('Bekräfta återställningsnyckel').waitFor();
    await store.getByLabel('Återställningsnyckel', { exact: true }).fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF');
    await store.getByLabel('Bekräfta återställningsnyckel').fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFF0');
    await store.getByRole('button', { name: 'Spara' }).click();
    expect(await store.locator('[data-keyward-message="M1"]').textContent()).toBe('Nycklarna måste överensstämma. Kontrollera nycklarna och försök igen.');
  });
});
