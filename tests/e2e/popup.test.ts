/**
 * The popup, in Chromium and in Firefox: the user's devices with platform icons and key-status
 * badges from the local cache; quick retrieve online without the vault passphrase, even with the vault locked
 * (key with countdown → hidden after five minutes); unlock on the options page with progress;
 * lock, also by the auto-lock alarm; copy, with the clipboard cleared after the delay only if
 * it still holds the key; BitLocker volumes; changing the vault passphrase; a lockout that says
 * how long to wait; starting over after a forgotten vault passphrase; pointing the extension at
 * another service signs it out first. In Chromium also:
 * the vault stays unlocked when the service worker is stopped and restarted, the offscreen
 * clipboard helper obeys only the extension, and a browser restart keeps the sign-in.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import type { MessageMap, MessageType } from '../../utils/client/messages.ts';
import { chromiumDriverOf, E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import { ChromiumDriver } from '../support/chromium-driver.ts';
import { sendFromContentScript } from '../support/content-world.ts';
import { until, type ExtensionDriver, type Tab } from '../support/driver.ts';
import {
  configureService, dumpExtensionStorage, fastForwardPageClock, getAlarm, offscreenDocuments, openDevicePage, openOptions, openPopup, readItem, sendFromExtensionPage,
  setAlarm, setUpExtension, stopServiceWorker, watchClipboardClear,
} from '../support/extension.ts';
import { auditActions, screenshotPath } from '../support/evidence.ts';
import { ACCOUNT, TOKENS, VAULT_SESSION } from '../../entrypoints/background/storage-keys.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

const PASSPHRASE = 'correct horse battery staple';
const GET_CORPORATE = { button: 'Get recovery key: Corporate MacBook (simulated)' };

/** Online, Get in the popup shows the key at once, vault locked or not: no passphrase prompt. */
async function getCorporateKeyWithoutPassphrase(popup: Tab): Promise<void> {
  await popup.page.click(GET_CORPORATE);
  await popup.page.waitFor('[data-keyward-key]', 20_000);
  expect(await popup.page.count('[data-keyward-unlock]')).toBe(0);
}

/** Options › Vault: unlock with a passphrase; answers the message shown, or '' once unlocked. */
async function unlockInOptions(driver: ExtensionDriver, passphrase: string): Promise<string> {
  const options = await openOptions(driver);
  try {
    await options.page.waitFor('[data-keyward-options-unlock]');
    await options.page.fill('#kw-passphrase', passphrase);
    await options.page.click({ button: 'Unlock' });
    return await until(
      async () => ((await options.page.count('[data-keyward-vault="unlocked"]')) === 1 ? '' : await options.page.text('[data-keyward-unlock-error]')),
      (t) => t !== null, 'the vault unlocked or an error', 20_000,
    ) ?? '';
  } finally {
    await options.close();
  }
}

const readClipboard = (tab: Tab) => tab.evaluate(() => navigator.clipboard.readText(), null);
const writeClipboard = (tab: Tab, text: string) => tab.evaluate((t) => navigator.clipboard.writeText(t), text);

describe.each(E2E_BROWSERS)('popup in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  const status = (deviceId: string) => `[data-keyward-device="${deviceId}"] [data-keyward-status]`;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    const options = await setUpExtension(driver, service.url, DEMO_USER, PASSPHRASE);
    await options.close();
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  /**
   * What a test needs, whatever ran before it: the extension signed in to the test service, the
   * vault on PASSPHRASE (started over when another passphrase or a lockout is in the way),
   * unlocked or locked, and optionally a clipboard delay.
   */
  async function given(wanted: { vault: 'unlocked' | 'locked'; clipboardSeconds?: number }): Promise<void> {
    const state = await withExtensionPage((page) => sendFromExtensionPage(page, 'state.get', {}));
    if (!state.signedIn || state.serviceUrl !== service.url) await (await setUpExtension(driver, service.url, DEMO_USER)).close();
    await withExtensionPage(async (page) => {
      const send = <K extends MessageType>(type: K, request: MessageMap[K]['request']) => sendFromExtensionPage(page, type, request);
      if (wanted.clipboardSeconds !== undefined) await send('settings.set', { settings: { clipboardSeconds: wanted.clipboardSeconds } });
      await send('vault.lock', {});
      const opened = (await send('state.get', {})).vault !== 'none' && (await send('vault.unlock', { passphrase: PASSPHRASE })).ok;
      if (!opened) {
        await send('vault.reset', {});
        const setup = await send('vault.setup', { passphrase: PASSPHRASE });
        if (!setup.ok) throw new Error(`the vault could not be set up: ${setup.error.code}`);
      }
      if (wanted.vault === 'locked') await send('vault.lock', {});
    });
  }

  async function withExtensionPage<T>(use: (page: Tab) => Promise<T>): Promise<T> {
    const page = await openOptions(driver);
    try {
      return await use(page);
    } finally {
      await page.close();
    }
  }

  it("lists the user's devices with their key status", async () => {
    await given({ vault: 'unlocked' });
    const popup = await openPopup(driver);
    const corporate = fleetDevice(service, 'Corporate MacBook');
    const personal = fleetDevice(service, 'Personal MacBook');
    await popup.page.waitFor(status(corporate.deviceId));
    expect(await popup.page.attribute(status(corporate.deviceId), 'data-keyward-status')).toBe('escrowed');
    expect(await popup.page.text(status(corporate.deviceId))).toBe('Key escrowed');
    expect(await popup.page.attribute(status(personal.deviceId), 'data-keyward-status')).toBe('missing');
    // The platform beside the status: the portal's drawing (aria-hidden) and the written name.
    const platform = `[data-keyward-device="${corporate.deviceId}"] [data-keyward-platform]`;
    expect(await popup.page.attribute(platform, 'data-keyward-platform')).toBe('macos');
    expect(await popup.page.text(platform)).toBe('macOS');
    expect(await popup.page.attribute(`${platform} svg[data-keyward-platform-icon="macos"]`, 'aria-hidden')).toBe('true');
    expect(await popup.page.count(`${platform} svg rect, ${platform} svg path`)).toBe(2);
    expect(Number(await popup.evaluate(() => document.documentElement.dataset.popupStatusMs, null))).toBeGreaterThan(0);
    // The same date format as the portal's (lib/i18n/format.ts): "Nov 22, 2026, 1:05 PM", no seconds.
    const synced = /^Synced [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M$/;
    await until(() => popup.page.text('[data-keyward-last-sync]'), (t) => synced.test(t ?? ''), 'the last sync time in the portal\'s format');
    await popup.close();
  });

  it('with the vault locked, Get shows the key online without the passphrase, with a countdown, and hides it after five minutes', async () => {
    await given({ vault: 'unlocked' });
    const popup = await openPopup(driver);
    await popup.page.click('[data-keyward-vault="unlocked"]');
    await popup.page.waitFor('[data-keyward-vault="locked"]');

    const corporate = fleetDevice(service, 'Corporate MacBook');
    await popup.page.click(GET_CORPORATE);
    expect(await popup.page.waitForText('[data-keyward-key]', 20_000)).toBe(formatRecoveryKey('filevault', corporate.volumes[0].currentKey()));
    expect(await popup.page.count('[data-keyward-unlock]'), 'no passphrase prompt online').toBe(0);
    expect(await popup.page.count('[data-keyward-vault="locked"]'), 'the vault stays locked').toBe(1);
    expect(await popup.page.text('[data-keyward-countdown]')).toMatch(/^Hidden in (5:00|4:5\d)$/);
    if (browserName === 'chromium') await popup.screenshot(screenshotPath('popup.png'));

    await fastForwardPageClock(popup, 120_000);
    await until(() => popup.page.text('[data-keyward-countdown]'), (t) => /^Hidden in (3:00|2:5\d)$/.test(t ?? ''), 'three minutes left');
    await fastForwardPageClock(popup, 181_000);
    await popup.page.waitFor('[data-keyward-message="hidden"]');
    expect(await popup.page.count('[data-keyward-key]')).toBe(0);
    expect(await auditActions(service, corporate.deviceId)).toContain('key.revealed');
    await popup.close();
  });

  it('retrieves the key of each BitLocker volume of a device', async () => {
    await given({ vault: 'unlocked' });
    const windows = fleetDevice(service, 'Windows PC');
    const popup = await openPopup(driver);
    await popup.page.click({ button: 'Get recovery key: Windows PC (simulated)' });
    expect(await popup.page.waitForText('[data-keyward-key]')).toBe(formatRecoveryKey('bitlocker', windows.volumes[0].currentKey()));
    expect(await popup.evaluate(() => document.activeElement?.textContent, null), 'keyboard focus moves to Copy').toBe('Copy');
    const lineBreaksAfter = await popup.evaluate(() => {
      const walker = document.createTreeWalker(document.querySelector('[data-keyward-key]')!, NodeFilter.SHOW_TEXT);
      const after: string[] = [];
      let lastTop: number | null = null;
      let previous = '';
      for (let text = walker.nextNode() as Text | null; text; text = walker.nextNode() as Text | null) {
        for (let i = 0; i < text.length; i += 1) {
          const range = document.createRange();
          range.setStart(text, i);
          range.setEnd(text, i + 1);
          const top = range.getBoundingClientRect().top;
          if (lastTop !== null && top > lastTop + 2) after.push(previous);
          lastTop = top;
          previous = text.data[i];
        }
      }
      return after;
    }, null);
    expect(lineBreaksAfter.length, 'the 55-character key wraps in the popup').toBeGreaterThan(0);
    expect(lineBreaksAfter.every((c) => c === '-'), 'lines break between groups, never inside one').toBe(true);
    const volumeD = await popup.evaluate(() => Array.from(document.querySelectorAll('option')).find((o) => o.textContent === 'D:')?.value ?? '', null);
    await popup.page.select({ label: 'Volume' }, volumeD);
    await until(() => popup.page.text('[data-keyward-key]'), (t) => t === formatRecoveryKey('bitlocker', windows.volumes[1].currentKey()), 'the D: key');
    expect(await popup.page.text('[data-keyward-protector]')).toMatch(/^Protector ID: \{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/);
    await popup.page.click({ button: 'Hide' });
    expect(await popup.page.count('[data-keyward-key]')).toBe(0);
    await until(() => popup.evaluate(() => document.activeElement?.getAttribute('aria-label'), null), (label) => label === 'Get recovery key: Windows PC (simulated)', 'focus back on the device');
    await popup.close();
  });

  it('unlocks on the options page with a progress indicator; schedules auto-lock at the configured idle time; when it fires the vault locks and the session key is wiped', async () => {
    await given({ vault: 'locked' });
    const options = await openOptions(driver);
    await options.page.fill('#kw-passphrase', PASSPHRASE);
    await options.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[data-keyward-unlock] progress');
        if (bar instanceof HTMLProgressElement) seen.push(bar.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    }, null);
    await options.page.click({ button: 'Unlock' });
    await options.page.waitFor('[data-keyward-vault="unlocked"]', 20_000);
    const progress = await options.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen, null);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.some((v) => v > 0 && v < 1)).toBe(true);
    await options.close();

    const popup = await openPopup(driver);
    await popup.page.waitFor('[data-keyward-vault="unlocked"]');
    const scheduled = await getAlarm(popup, 'keyward-autolock');
    expect(scheduled).toBeDefined();
    const minutesAhead = (scheduled!.scheduledTime - Date.now()) / 60_000;
    expect(minutesAhead).toBeGreaterThan(13);
    expect(minutesAhead).toBeLessThanOrEqual(15);

    // Unpacked and temporary extensions may set short alarms: bring the auto-lock time forward to now.
    await setAlarm(popup, 'keyward-autolock', Date.now() + 50);
    await until(async () => {
      await popup.reload();
      await popup.page.waitFor('main.kw-root');
      return popup.page.count('[data-keyward-vault="locked"]');
    }, (n) => n === 1, 'the vault to lock', 10_000);
    expect(await readItem(popup, VAULT_SESSION)).toBeNull();
    await getCorporateKeyWithoutPassphrase(popup);
    await popup.close();
    expect(await unlockInOptions(driver, PASSPHRASE)).toBe('');
  });

  it('copies the key and clears the clipboard after the delay, only if it still holds the key', async () => {
    await given({ vault: 'unlocked' });
    const options = await openOptions(driver);
    await options.page.fill({ label: 'Clear a copied key from the clipboard after (seconds)' }, '5');
    await options.press('Tab');
    await until(() => options.page.text('main'), (t) => t?.includes('Saved.') ?? false, 'Saved.');
    await options.close();

    const popup = await openPopup(driver);
    await popup.page.click(GET_CORPORATE);
    const key = await popup.page.waitForText('[data-keyward-key]');
    await popup.page.click({ button: 'Copy' });
    expect(await popup.page.waitForText('[role="status"]')).toBe('Copied. The clipboard is cleared in 5 s.');
    expect(await readClipboard(popup)).toBe(key);
    await until(() => readClipboard(popup), (text) => text === '', 'the clipboard to be cleared', 9_000);
    if (browserName === 'chromium') await until(() => offscreenDocuments(popup), (n) => n === 0, 'the first clear to finish');

    await popup.page.click({ button: 'Copy' });
    const cleared = await watchClipboardClear(driver, popup);
    await until(() => readClipboard(popup), (text) => text === key, 'the key on the clipboard');
    await writeClipboard(popup, 'a note the user copied');
    await cleared();
    expect(await readClipboard(popup)).toBe('a note the user copied');
    await popup.close();
  });

  if (browserName === 'chromium') {
    it('stays unlocked after the service worker is stopped', async () => {
      await given({ vault: 'unlocked' });
      const popup = await openPopup(driver);
      await popup.page.waitFor('[data-keyward-vault="unlocked"]');
      await stopServiceWorker(driver, popup);
      await popup.close();

      const reopened = await openPopup(driver);
      await reopened.page.waitFor('[data-keyward-vault="unlocked"]');
      await reopened.page.click(GET_CORPORATE);
      await reopened.page.waitFor('[data-keyward-key]');
      expect(await reopened.page.count('[data-keyward-unlock]')).toBe(0);
      await reopened.close();
    });

    it('locks when the auto-lock alarm wakes a stopped service worker', async () => {
      await given({ vault: 'unlocked' });
      const popup = await openPopup(driver);
      await popup.page.waitFor('[data-keyward-vault="unlocked"]');
      await setAlarm(popup, 'keyward-autolock', Date.now() + 1_500);
      await stopServiceWorker(driver, popup);
      await popup.close();
      // offscreen.html, opened as a tab, never messages the background: only the alarm can wake it.
      const watcher = await driver.newTab();
      await watcher.goto(driver.extensionUrl('offscreen.html'));
      await until(() => readItem(watcher, VAULT_SESSION), (session) => session === null, 'the alarm to lock the vault', 15_000);
      await watcher.close();

      const reopened = await openPopup(driver);
      await reopened.page.waitFor('[data-keyward-vault="locked"]', 10_000);
      expect(await readItem(reopened, VAULT_SESSION)).toBeNull();
      await getCorporateKeyWithoutPassphrase(reopened);
      await reopened.close();
      expect(await unlockInOptions(driver, PASSPHRASE)).toBe('');
    });

    it('a portal content script cannot make the clipboard helper clear what the user copied', async () => {
      await given({ vault: 'unlocked', clipboardSeconds: 5 });
      const popup = await openPopup(driver);
      await popup.page.click(GET_CORPORATE);
      await popup.page.click({ button: 'Copy' });
      const cleared = await watchClipboardClear(driver, popup);
      expect(await popup.page.waitForText('[role="status"]')).toBe('Copied. The clipboard is cleared in 5 s.');
      const note = 'a note the user copied later';
      await writeClipboard(popup, note);

      const portal = await openDevicePage(driver, service.url, fleetDevice(service, 'Corporate MacBook').deviceId);
      await portal.panel('get').waitFor({ button: 'Get recovery key' });
      const { browser, tab } = chromiumDriverOf(driver, portal);
      const sha256 = createHash('sha256').update(note).digest('hex');
      await sendFromContentScript(browser.context, tab, 'Keyward', { target: 'offscreen', type: 'clipboard.clearLater', sha256, delayMs: 0 }).catch(() => undefined);
      // The genuine clear, due in 5 s, runs after the forged one (due at once) would have.
      await cleared();
      expect(await readClipboard(popup)).toBe(note);
      await portal.close();
      await popup.close();
    });
  }

  it('changes the vault passphrase: the old one no longer unlocks, the new one does', async () => {
    await given({ vault: 'unlocked' });
    const options = await openOptions(driver);
    await options.page.fill('#kw-current', PASSPHRASE);
    await options.page.fill('#kw-new', 'a brand new passphrase');
    await options.page.fill('#kw-confirm-pass', 'a different passphrase');
    await options.page.click({ button: 'Change passphrase' });
    const description = await options.evaluate(() => {
      const input = document.getElementById('kw-confirm-pass')!;
      return (input.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
    }, null);
    expect(description, "the mismatch is the field's accessible description").toBe('The passphrases do not match.');
    await options.page.fill('#kw-confirm-pass', 'a brand new passphrase');
    await options.page.click({ button: 'Change passphrase' });
    await options.page.waitFor('[data-keyward-vault-message="ok"]', 30_000);
    await options.page.click({ button: 'Lock' });
    await options.page.waitFor('[data-keyward-vault="locked"]');
    await options.close();

    expect(await unlockInOptions(driver, PASSPHRASE)).toBe('Wrong passphrase. Try again.');
    expect(await unlockInOptions(driver, 'a brand new passphrase')).toBe('');
  });

  it('after too many wrong passphrases says how long to wait; a forgotten passphrase is reset by deleting the saved keys', async () => {
    await given({ vault: 'unlocked' });
    const options = await openOptions(driver);
    await options.page.click({ button: 'Lock' });
    await options.page.waitFor('[data-keyward-options-unlock]');
    // Each answer is a new message element (submitting removes the previous one): record them all.
    await options.evaluate(() => {
      const answers: string[] = [];
      (window as unknown as { unlockAnswers: string[] }).unlockAnswers = answers;
      new MutationObserver((records) => {
        for (const record of records) {
          for (const node of record.addedNodes) {
            if (node instanceof HTMLElement && node.matches('[data-keyward-unlock-error]')) answers.push(node.textContent ?? '');
          }
        }
      }).observe(document.body, { subtree: true, childList: true });
    }, null);
    const answers = () => options.evaluate(() => (window as unknown as { unlockAnswers: string[] }).unlockAnswers, null);
    let messages: string[] = [];
    for (const [i, guess] of ['wrong guess one', 'wrong guess two', 'wrong guess three'].entries()) {
      await options.page.fill('#kw-passphrase', guess);
      await options.page.click({ button: 'Unlock' });
      messages = await until(answers, (seen) => seen.length === i + 1, 'the answer to the guess', 30_000);
    }
    expect(messages.slice(0, 2)).toEqual(['Wrong passphrase. Try again.', 'Wrong passphrase. Try again.']);
    expect(messages[2]).toMatch(/^Too many attempts\. Try again in (10|9) seconds\.$/);

    await options.page.click({ button: 'Forgot the vault passphrase?' });
    expect(await options.page.text('[data-keyward-vault-reset]')).toContain('You stay signed in');
    await options.page.click({ button: 'Delete saved keys and start over' });
    await options.page.waitFor('[data-keyward-vault="none"]');
    expect(await options.page.text('[data-keyward-vault-message="ok"]')).toContain('The saved keys were deleted.');
    const cached = JSON.parse(await dumpExtensionStorage(options)) as { databases: Record<string, { keys: unknown[] }> };
    expect(cached.databases['keyward-vault'].keys).toEqual([]);
    expect(await readItem(options, TOKENS), 'still signed in').not.toBeNull();
    await options.close();

    const popup = await openPopup(driver);
    expect(await popup.page.count('[data-keyward-state="signed-out"]')).toBe(0);
    await getCorporateKeyWithoutPassphrase(popup);
    await popup.close();

    const again = await openOptions(driver);
    await again.page.fill('#kw-new', PASSPHRASE);
    await again.page.fill('#kw-confirm-pass', PASSPHRASE);
    await again.page.click({ button: 'Set passphrase' });
    await again.page.waitFor('[data-keyward-vault="unlocked"]', 30_000);
    await again.close();
  });

  if (browserName === 'chromium') {
    it('after a browser restart: still signed in, statuses shown from the cache, vault locked, Get works online without the passphrase', async () => {
      await given({ vault: 'unlocked' });
      const profile = (driver as ChromiumDriver).browser.profileDir;
      await (driver as ChromiumDriver).close({ keepProfile: true });
      driver = await ChromiumDriver.launch(profile);
      const popup = await openPopup(driver);
      await popup.page.waitFor('[data-keyward-vault="locked"]');
      expect(await popup.page.attribute(status(fleetDevice(service, 'Corporate MacBook').deviceId), 'data-keyward-status')).toBe('escrowed');
      expect(await popup.page.count('[data-keyward-state="signed-out"]')).toBe(0);
      await getCorporateKeyWithoutPassphrase(popup);
      await popup.close();
    });
  }

  it('pointing the extension at another service signs out first: no token ever reaches the new service', async () => {
    await given({ vault: 'unlocked' });
    const seen: string[] = [];
    const other = createServer((request, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`);
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"unauthenticated","message":"no"}}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const options = await configureService(driver, otherUrl);
      await options.close();
      const popup = await openPopup(driver);
      await popup.page.waitFor('[data-keyward-state="signed-out"]');
      expect(await popup.page.count('[data-keyward-device]')).toBe(0);
      expect(await readItem(popup, TOKENS)).toBeNull();
      expect(await readItem(popup, ACCOUNT)).toBeNull();
      expect(seen.filter((line) => /Bearer|refresh/i.test(line))).toEqual([]);
      await popup.close();
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
