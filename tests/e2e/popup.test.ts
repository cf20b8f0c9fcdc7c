/**
 * The popup: the user's devices with key-status badges from the local cache; quick retrieve
 * (unlock with progress → key with countdown → hidden after five minutes, on Playwright's
 * clock); the vault stays unlocked when the service worker is stopped and restarted; pointing
 * the extension at another service signs it out first.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { launchWithExtension, type ExtensionBrowser } from '../support/browser.ts';
import { configureService, openOptions, openPopup, setVaultPassphrase, signInExtension, stopServiceWorker } from '../support/extension.ts';
import { sendFromContentScript } from '../support/content-world.ts';
import { auditActions, screenshotPath } from '../support/evidence.ts';
import { openDevicePage, panel } from '../support/portal.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

const PASSPHRASE = 'correct horse battery staple';

/** What the background holds in chrome.storage.session. */
function sessionStorageOf(worker: Worker): Promise<Record<string, unknown>> {
  return worker.evaluate(() => (globalThis as unknown as { chrome: { storage: { session: { get(k: null): Promise<Record<string, unknown>> } } } }).chrome.storage.session.get(null));
}

/** From the locked popup: Get on the corporate Mac, unlock with the passphrase, wait for the key. */
async function unlockForCorporateKey(popup: Page): Promise<void> {
  await popup.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
  await popup.getByLabel('Vault passphrase').fill(PASSPHRASE);
  await popup.getByRole('button', { name: 'Unlock' }).click();
  await popup.locator('[data-keyward-key]').waitFor({ timeout: 20_000 });
}

let service: TestService;
let browser: ExtensionBrowser;

beforeAll(async () => {
  [service, browser] = await Promise.all([startTestService(), launchWithExtension()]);
  const options = await configureService(browser, service.url);
  await signInExtension(browser, options, DEMO_USER);
  await setVaultPassphrase(options, PASSPHRASE);
  await options.close();
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

describe('popup', () => {
  it("lists the user's devices with their key status", async () => {
    const popup = await openPopup(browser);
    const corporate = popup.locator('[data-keyward-device]', { hasText: 'Corporate MacBook' });
    const personal = popup.locator('[data-keyward-device]', { hasText: 'Personal MacBook' });
    expect(await corporate.locator('[data-keyward-status]').getAttribute('data-keyward-status')).toBe('escrowed');
    expect(await corporate.locator('[data-keyward-status]').textContent()).toBe('Key escrowed');
    expect(await personal.locator('[data-keyward-status]').getAttribute('data-keyward-status')).toBe('missing');
    expect(Number(await popup.evaluate(() => document.documentElement.dataset.popupStatusMs))).toBeGreaterThan(0);
    await popup.close();
  });

  it('unlocks with a progress indicator, shows the key with a countdown and hides it after five minutes', async () => {
    const popup = await browser.context.newPage();
    await popup.clock.install();
    await openPopup(browser, popup);
    await popup.locator('[data-keyward-vault="unlocked"]').click();
    await popup.locator('[data-keyward-vault="locked"]').waitFor();

    const corporate = fleetDevice(service, 'Corporate MacBook');
    await popup.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
    await popup.getByLabel('Vault passphrase').fill(PASSPHRASE);
    await popup.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('progress');
        if (bar) seen.push(bar.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await popup.getByRole('button', { name: 'Unlock' }).click();
    const key = popup.locator('[data-keyward-key]');
    await key.waitFor({ timeout: 20_000 });
    expect(await key.textContent()).toBe(formatRecoveryKey('filevault', corporate.volumes[0].currentKey()));
    expect(await popup.locator('[data-keyward-countdown]').textContent()).toMatch(/^Hidden in (5:00|4:5\d)$/);
    const progress = await popup.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.some((v) => v > 0 && v < 1)).toBe(true);
    await popup.screenshot({ path: screenshotPath('popup.png'), fullPage: true });

    await popup.clock.fastForward('02:00');
    await expect.poll(() => popup.locator('[data-keyward-countdown]').textContent()).toMatch(/^Hidden in (3:00|2:5\d)$/);
    await popup.clock.fastForward('03:01');
    await popup.locator('[data-keyward-message="hidden"]').waitFor();
    expect(await key.count()).toBe(0);
    expect(await auditActions(service, corporate.deviceId)).toContain('key.revealed');
    await popup.close();
  });

  it('stays unlocked after the service worker is stopped', async () => {
    const popup = await openPopup(browser);
    await popup.locator('[data-keyward-vault="unlocked"]').waitFor();
    await stopServiceWorker(browser, popup);
    await popup.close();

    const reopened = await openPopup(browser);
    await reopened.locator('[data-keyward-vault="unlocked"]').waitFor();
    await reopened.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
    await reopened.locator('[data-keyward-key]').waitFor();
    expect(await reopened.locator('[data-keyward-unlock]').count()).toBe(0);
    await reopened.close();
  });

  it('retrieves the key of each BitLocker volume of a device', async () => {
    const windows = fleetDevice(service, 'Windows PC');
    const popup = await openPopup(browser);
    await popup.getByRole('button', { name: 'Get recovery key: Windows PC (simulated)' }).click();
    const key = popup.locator('[data-keyward-key]');
    await key.waitFor();
    expect(await key.textContent()).toBe(formatRecoveryKey('bitlocker', windows.volumes[0].currentKey()));
    expect(await popup.evaluate(() => document.activeElement?.textContent), 'keyboard focus moves to Copy').toBe('Copy');
    const lineBreaksAfter = await key.evaluate((element) => {
      const text = element.firstChild as Text;
      const after: string[] = [];
      let lastTop: number | null = null;
      for (let i = 0; i < text.length; i += 1) {
        const range = document.createRange();
        range.setStart(text, i);
        range.setEnd(text, i + 1);
        const top = range.getBoundingClientRect().top;
        if (lastTop !== null && top > lastTop + 2) after.push(text.data[i - 1]);
        lastTop = top;
      }
      return after;
    });
    expect(lineBreaksAfter.length, 'the 55-character key wraps in the popup').toBeGreaterThan(0);
    expect(lineBreaksAfter.every((c) => c === '-'), 'lines break between groups, never inside one').toBe(true);
    await popup.getByLabel('Volume').selectOption({ label: 'D:' });
    await expect.poll(() => key.textContent()).toBe(formatRecoveryKey('bitlocker', windows.volumes[1].currentKey()));
    expect(await popup.locator('[data-keyward-protector]').textContent()).toMatch(/^Protector ID: \{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/);
    await popup.getByRole('button', { name: 'Hide' }).click();
    expect(await key.count()).toBe(0);
    await expect.poll(() => popup.evaluate(() => document.activeElement?.getAttribute('aria-label')), { message: 'focus back on the device' }).toBe('Get recovery key: Windows PC (simulated)');
    await popup.close();
  });

  it('schedules auto-lock at the configured idle time; when it fires the vault locks and the session key is wiped', async () => {
    const worker = await browser.serviceWorker();
    type Alarm = { name: string; scheduledTime: number };
    const alarm = () => worker.evaluate(() => (globalThis as unknown as { chrome: { alarms: { get(n: string): Promise<Alarm | undefined> } } }).chrome.alarms.get('keyward-autolock'));
    const scheduled = await alarm();
    expect(scheduled).toBeDefined();
    const minutesAhead = (scheduled!.scheduledTime - Date.now()) / 60_000;
    expect(minutesAhead).toBeGreaterThan(13);
    expect(minutesAhead).toBeLessThanOrEqual(15);

    // Unpacked extensions may set short alarms: bring the auto-lock time forward to now.
    await worker.evaluate(() => (globalThis as unknown as { chrome: { alarms: { create(n: string, a: { when: number }): Promise<void> } } }).chrome.alarms.create('keyward-autolock', { when: Date.now() + 50 }));
    const popup = await openPopup(browser);
    await expect.poll(async () => {
      await popup.reload();
      return popup.locator('[data-keyward-vault="locked"]').count();
    }, { timeout: 10_000 }).toBe(1);
    const session = await sessionStorageOf(worker);
    expect(session.vaultSession).toBeUndefined();

    await unlockForCorporateKey(popup);
    await popup.close();
  });

  it('locks when the auto-lock alarm wakes a stopped service worker', async () => {
    const popup = await openPopup(browser);
    await popup.locator('[data-keyward-vault="unlocked"]').waitFor();
    const worker = await browser.serviceWorker();
    await worker.evaluate(() => (globalThis as unknown as { chrome: { alarms: { create(n: string, a: { when: number }): Promise<void> } } }).chrome.alarms.create('keyward-autolock', { when: Date.now() + 1_500 }));
    await stopServiceWorker(browser, popup);
    await popup.close();
    await new Promise((resolve) => setTimeout(resolve, 4_000));

    const reopened = await openPopup(browser);
    await reopened.locator('[data-keyward-vault="locked"]').waitFor({ timeout: 10_000 });
    const awake = await browser.serviceWorker();
    const session = await sessionStorageOf(awake);
    expect(session.vaultSession).toBeUndefined();
    await unlockForCorporateKey(reopened);
    await reopened.close();
  });

  it('copies the key and clears the clipboard after the delay, only if it still holds the key', async () => {
    const options = await openOptions(browser);
    await options.getByLabel('Clear a copied key from the clipboard after (seconds)').fill('5');
    await options.getByLabel('Clear a copied key from the clipboard after (seconds)').press('Tab');
    await options.getByText('Saved.').waitFor();
    await options.close();

    const popup = await openPopup(browser);
    const clipboard = () => popup.evaluate(() => navigator.clipboard.readText());
    await popup.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
    const key = (await popup.locator('[data-keyward-key]').textContent()) ?? '';
    await popup.getByRole('button', { name: 'Copy' }).click();
    await popup.getByText('Copied. The clipboard is cleared in 5 s.').waitFor();
    expect(await clipboard()).toBe(key);
    await expect.poll(clipboard, { timeout: 9_000, interval: 250 }).toBe('');

    await popup.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(clipboard).toBe(key);
    await popup.evaluate(() => navigator.clipboard.writeText('a note the user copied'));
    await popup.waitForTimeout(6_000);
    expect(await clipboard()).toBe('a note the user copied');
    await popup.close();
  });

  it('a portal content script cannot make the clipboard helper clear what the user copied', async () => {
    const popup = await openPopup(browser);
    await popup.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
    await popup.getByRole('button', { name: 'Copy' }).click();
    await popup.getByText('Copied. The clipboard is cleared in 5 s.').waitFor();
    const note = 'a note the user copied later';
    await popup.evaluate((text) => navigator.clipboard.writeText(text), note);

    const portal = await browser.context.newPage();
    await openDevicePage(portal, service.url, fleetDevice(service, 'Corporate MacBook').deviceId);
    await panel(portal, 'get').getByRole('button', { name: 'Get recovery key' }).waitFor();
    const sha256 = createHash('sha256').update(note).digest('hex');
    await sendFromContentScript(browser.context, portal, 'Keyward', { target: 'offscreen', type: 'clipboard.clearLater', sha256, delayMs: 0 }).catch(() => undefined);
    await popup.waitForTimeout(1_000);
    expect(await popup.evaluate(() => navigator.clipboard.readText())).toBe(note);
    await portal.close();
    await popup.close();
  });

  it('changes the vault passphrase: the old one no longer unlocks, the new one does', async () => {
    const options = await openOptions(browser);
    await options.locator('#kw-current').fill(PASSPHRASE);
    await options.locator('#kw-new').fill('a brand new passphrase');
    await options.locator('#kw-confirm-pass').fill('a different passphrase');
    await options.getByRole('button', { name: 'Change passphrase' }).click();
    const description = await options.locator('#kw-confirm-pass').evaluate((input) =>
      (input.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim());
    expect(description, 'the mismatch is the field\'s accessible description').toBe('The passphrases do not match.');
    await options.locator('#kw-confirm-pass').fill('a brand new passphrase');
    await options.getByRole('button', { name: 'Change passphrase' }).click();
    await options.locator('[data-keyward-vault-message="ok"]').waitFor({ timeout: 30_000 });
    await options.getByRole('button', { name: 'Lock' }).click();
    await options.locator('[data-keyward-vault="locked"]').waitFor();
    await options.close();

    const popup = await openPopup(browser);
    await popup.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
    await popup.getByLabel('Vault passphrase').fill(PASSPHRASE);
    await popup.getByRole('button', { name: 'Unlock' }).click();
    await popup.getByText('Wrong passphrase. Try again.').waitFor({ timeout: 20_000 });
    await popup.getByLabel('Vault passphrase').fill('a brand new passphrase');
    await popup.getByRole('button', { name: 'Unlock' }).click();
    await popup.locator('[data-keyward-key]').waitFor({ timeout: 20_000 });
    await popup.close();
  });

  it('after a browser restart: still signed in, statuses shown from the cache, vault locked', async () => {
    await browser.close({ keepProfile: true });
    browser = await launchWithExtension(browser.profileDir);
    const popup = await openPopup(browser);
    await popup.locator('[data-keyward-vault="locked"]').waitFor();
    const corporate = popup.locator('[data-keyward-device]', { hasText: 'Corporate MacBook' });
    expect(await corporate.locator('[data-keyward-status]').getAttribute('data-keyward-status')).toBe('escrowed');
    expect(await popup.locator('[data-keyward-state="signed-out"]').count()).toBe(0);
    await popup.getByRole('button', { name: 'Get recovery key: Corporate MacBook (simulated)' }).click();
    await popup.locator('[data-keyward-unlock]').waitFor();
    await popup.close();
  });

  it('pointing the extension at another service signs out first: no token ever reaches the new service', async () => {
    const seen: string[] = [];
    const other = createServer((request, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`);
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"unauthenticated","message":"no"}}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      await configureService(browser, otherUrl);
      const popup = await openPopup(browser);
      await popup.locator('[data-keyward-state="signed-out"]').waitFor();
      expect(await popup.locator('[data-keyward-device]').count()).toBe(0);
      const worker = await browser.serviceWorker();
      const local = await worker.evaluate(() => (globalThis as unknown as { chrome: { storage: { local: { get(k: null): Promise<Record<string, unknown>> } } } }).chrome.storage.local.get(null));
      expect(local.tokens).toBeUndefined();
      expect(local.account).toBeUndefined();
      expect(seen.filter((line) => /Bearer|refresh/i.test(line))).toEqual([]);
      await popup.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
