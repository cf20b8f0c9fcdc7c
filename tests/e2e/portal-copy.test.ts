/**
 * The plain portal (no extension) in Chromium, through playwright-core: My devices shows a card
 * per device with its platform icon; a key the owner gets has Copy, which puts the key on the
 * clipboard, says so in a live region, and clears the clipboard after the extension's delay
 * (on Playwright's clock, no real wait) — but not when the person copied something else on the
 * page since, and not while the page is not in front (then it says it could not). Without
 * JavaScript the button is not there and the key is plain selectable text. The pages are also
 * the README's portal screenshots.
 *
 * The portal's Permissions-Policy refuses `clipboard-read` to its own pages, so the test reads
 * the clipboard from a blank page of another (loopback) origin it serves itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchPlainChromium, signedInContext as signIn } from '../support/plain-portal.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';
import { screenshotPath } from '../support/evidence.ts';
import { PORTAL_CLIPBOARD_SECONDS } from '../../server/portal/copy-key.ts';

describe('the plain portal in Chromium: device cards and Copy', () => {
  let service: TestService;
  let browser: Browser;
  let blank: Server;
  let blankUrl: string;
  let corporateMacId: string;

  beforeAll(async () => {
    blank = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>clipboard</title>'));
    await new Promise<void>((done) => blank.listen(0, '127.0.0.1', done));
    blankUrl = `http://127.0.0.1:${(blank.address() as AddressInfo).port}/`;
    [service, browser] = await Promise.all([
      startTestService(),
      launchPlainChromium(),
    ]);
    corporateMacId = fleetDevice(service, 'Corporate MacBook').deviceId;
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await new Promise((done) => blank?.close(done));
  });

  async function signedInContext(javaScriptEnabled = true): Promise<{ context: BrowserContext; page: Page }> {
    const signedIn = await signIn(browser, service.url, DEMO_USER, { javaScriptEnabled });
    await signedIn.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: blankUrl.slice(0, -1) });
    await signedIn.context.grantPermissions(['clipboard-write'], { origin: service.url });
    return signedIn;
  }

  /** The clipboard's text, read from the blank page (which takes the focus while it reads). */
  async function clipboardText(context: BrowserContext): Promise<string> {
    const reader = await context.newPage();
    await reader.goto(blankUrl);
    await reader.bringToFront();
    const text = await reader.evaluate(() => navigator.clipboard.readText());
    await reader.close();
    return text;
  }

  async function revealKey(page: Page): Promise<string> {
    await page.goto(`${service.url}/devices/${corporateMacId}`);
    await page.click('#get-form button[type=submit]');
    await page.waitForSelector('#revealed-key');
    return (await page.textContent('#revealed-key'))?.trim() ?? '';
  }

  it('My devices: a card per device with its platform icon beside the platform name', async () => {
    const { context, page } = await signedInContext();
    const cards = page.locator('ul#devices > li.device-card');
    expect(await cards.count()).toBe(3);
    const windows = cards.filter({ hasText: 'Windows PC' });
    expect(await windows.locator('.platform-name').textContent()).toBe('Windows');
    expect(await windows.locator('svg[data-platform-icon="windows"][aria-hidden="true"]').isVisible()).toBe(true);
    // The icon is drawn before the name it stands beside.
    const [icon, name] = await Promise.all([windows.locator('svg.platform-icon').boundingBox(), windows.locator('.platform-name').boundingBox()]);
    expect(icon && name && icon.x + icon.width <= name.x).toBe(true);
    await page.screenshot({ path: screenshotPath('portal-devices.png'), fullPage: true });
    await context.close();
  });

  it('Copy puts the key on the clipboard, says when it will be cleared, and clears it then', async () => {
    const { context, page } = await signedInContext();
    await page.clock.install();
    const key = await revealKey(page);
    expect(key).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    await page.click('#copy-key');
    await page.waitForFunction(() => document.getElementById('copy-status')?.textContent !== '');
    expect(await page.textContent('#copy-status')).toBe(`Copied. The clipboard is cleared in ${PORTAL_CLIPBOARD_SECONDS} s.`);
    await page.screenshot({ path: screenshotPath('portal-device.png'), fullPage: true });
    expect(await clipboardText(context)).toBe(key);

    await page.bringToFront();
    await page.waitForFunction(() => document.hasFocus());
    await page.clock.runFor(PORTAL_CLIPBOARD_SECONDS * 1000);
    await page.waitForFunction(() => document.getElementById('copy-status')?.textContent === 'The clipboard was cleared.');
    expect(await clipboardText(context)).toBe('');
    await context.close();
  });

  it('leaves the clipboard alone when something else was copied on the page since, and says so', async () => {
    const { context, page } = await signedInContext();
    await page.clock.install();
    await revealKey(page);
    await page.click('#copy-key');
    await page.waitForFunction(() => document.getElementById('copy-status')?.textContent !== '');
    // The person selects the page title and copies it (a real copy event on the page).
    await page.evaluate(() => {
      const title = document.querySelector('h1');
      if (title) window.getSelection()?.selectAllChildren(title);
    });
    await page.keyboard.press('Control+C');
    const copied = await clipboardText(context);
    expect(copied).toContain('Corporate MacBook');
    await page.bringToFront();
    await page.waitForFunction(() => document.hasFocus());
    await page.clock.runFor(PORTAL_CLIPBOARD_SECONDS * 1000);
    await page.waitForFunction(() => (document.getElementById('copy-status')?.textContent ?? '').startsWith('The clipboard was not cleared'));
    expect(await clipboardText(context)).toBe(copied);
    await context.close();
  });

  it('does not clear while the page is not in front (it cannot know what the clipboard holds), and says so', async () => {
    const { context, page } = await signedInContext();
    await page.clock.install();
    const key = await revealKey(page);
    await page.click('#copy-key');
    await page.waitForFunction(() => document.getElementById('copy-status')?.textContent !== '');
    // Playwright makes every headless page think it has the focus; let the browser say where it is.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    const elsewhere = await context.newPage();
    await elsewhere.goto(blankUrl);
    await elsewhere.bringToFront();
    await page.waitForFunction(() => !document.hasFocus(), undefined, { timeout: 5000 });
    await page.clock.runFor(PORTAL_CLIPBOARD_SECONDS * 1000);
    await page.waitForFunction(() => (document.getElementById('copy-status')?.textContent ?? '').startsWith('The clipboard was not cleared'));
    expect(await elsewhere.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await context.close();
  });

  it('without JavaScript there is no Copy button and the key is plain selectable text', async () => {
    const { context, page } = await signedInContext(false);
    const key = await revealKey(page);
    expect(key).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    expect(await page.locator('#copy-key').isVisible()).toBe(false);
    expect(await page.locator('#revealed-key').evaluate((el) => getComputedStyle(el).userSelect)).not.toBe('none');
    await context.close();
  });
});
