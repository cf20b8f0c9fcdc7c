/**
 * Sync and offline: the scheduled sync alarm brings service-side changes into the cached
 * statuses; with the escrow service down, the popup shows the offline state and still shows
 * a key saved (encrypted) in the vault; the portal panel shows toast M2 when a key cannot be
 * submitted; back online, "Sync now" reports the offline reveal to the service's audit log;
 * the `offlineCache: metadata` policy empties the key cache; a browser revoked from the
 * portal is signed out and forgets its cached devices and keys, and the portal keeps its own
 * forms while the extension is signed out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { launchWithExtension, type ExtensionBrowser } from '../support/browser.ts';
import { configureService, dumpExtensionStorage, openPopup, setVaultPassphrase, signInExtension } from '../support/extension.ts';
import { auditActions } from '../support/evidence.ts';
import { openDevicePage, panel } from '../support/portal.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

let service: TestService;
let browser: ExtensionBrowser;
let popup: Page;
let corporateId: string;
let corporateKey: string;

beforeAll(async () => {
  [service, browser] = await Promise.all([startTestService(), launchWithExtension()]);
  const options = await configureService(browser, service.url);
  await signInExtension(browser, options, DEMO_USER);
  await setVaultPassphrase(options, 'offline vault passphrase');
  await options.close();
  const corporate = fleetDevice(service, 'Corporate MacBook');
  corporateId = corporate.deviceId;
  corporateKey = formatRecoveryKey('filevault', corporate.volumes[0].currentKey());
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
});

const getCorporateKey = (page: Page) => page.getByRole('button', { name: /^Get recovery key: Corporate MacBook/ }).click();

describe('sync', () => {
  it('the scheduled sync alarm brings changes made on the service into the cached statuses', async () => {
    await service.db.updateTable('devices').set({ name: 'Corporate MacBook Pro (simulated)', updated_at: new Date().toISOString() }).where('id', '=', corporateId).execute();
    const worker = await browser.serviceWorker();
    // Unpacked extensions may set short alarms: let the five-minute sync alarm fire now.
    await worker.evaluate(() => (globalThis as unknown as { chrome: { alarms: { create(n: string, a: { when: number; periodInMinutes: number }): Promise<void> } } })
      .chrome.alarms.create('keyward-sync', { when: Date.now() + 50, periodInMinutes: 5 }));
    const page = await openPopup(browser);
    await expect.poll(async () => {
      await page.reload();
      return page.locator('[data-keyward-device]', { hasText: 'Corporate MacBook Pro (simulated)' }).count();
    }, { timeout: 10_000 }).toBe(1);
    await page.close();
  });

  it('refreshes an expired access token (rotating the refresh token) and stays signed in', async () => {
    const worker = await browser.serviceWorker();
    type Tokens = { accessToken: string; refreshToken: string | null; expiresAt: number };
    type Local = { get(k: string): Promise<{ tokens?: Tokens }>; set(v: { tokens: Tokens }): Promise<void> };
    const readTokens = async () => (await worker.evaluate(() => (globalThis as unknown as { chrome: { storage: { local: Local } } }).chrome.storage.local.get('tokens'))).tokens;
    const before = (await readTokens())!;
    await worker.evaluate((tokens) => (globalThis as unknown as { chrome: { storage: { local: Local } } }).chrome.storage.local.set({ tokens: { ...tokens, expiresAt: Date.now() - 1_000 } }), before);
    const page = await openPopup(browser);
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(async () => (await readTokens())?.accessToken).not.toBe(before.accessToken);
    const after = (await readTokens())!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now());
    expect(await page.locator('[data-keyward-state="signed-out"]').count()).toBe(0);
    expect(await page.locator('[data-keyward-device]').count()).toBeGreaterThan(0);
    await page.close();
  });
});

describe('offline', () => {
  it('shows a key cached in the vault while the service is down, and says it is offline', async () => {
    popup = await openPopup(browser);
    await getCorporateKey(popup);
    expect(await popup.locator('[data-keyward-key]').textContent()).toBe(corporateKey);

    const portal = await browser.context.newPage();
    await openDevicePage(portal, service.url, fleetDevice(service, 'Personal MacBook').deviceId);
    await panel(portal, 'store').locator('[data-keyward-store]').waitFor();

    expect(await auditActions(service, corporateId)).not.toContain('key.revealed_offline');
    await service.stop();
    await popup.getByRole('button', { name: 'Sync now' }).click();
    await popup.locator('[data-keyward-state="offline"]').waitFor();
    await popup.getByRole('button', { name: 'Back' }).click();
    await getCorporateKey(popup);
    await popup.locator('[data-keyward-key]').waitFor();
    expect(await popup.locator('[data-keyward-key]').textContent()).toBe(corporateKey);
    expect(await popup.locator('[data-keyward-retrieve]').textContent()).toContain('Offline: shown from the vault on this computer');
    expect(await popup.locator('[data-keyward-device]', { hasText: 'Corporate MacBook' }).locator('[data-keyward-status]').textContent()).toBe('Key escrowed');

    const store = panel(portal, 'store');
    await store.getByLabel('Recovery key', { exact: true }).fill(corporateKey);
    await store.getByLabel('Confirm recovery key').fill(corporateKey);
    await store.getByRole('button', { name: 'Save' }).click();
    const toast = store.locator('[data-keyward-toast="M2"]');
    await toast.waitFor();
    expect(await toast.textContent()).toContain("Couldn't update the recovery key for this device.");
    await portal.close();
  });

  it('reports the offline reveal to the audit log when back online', async () => {
    service = await startTestService({ port: service.port, dataDir: service.dataDir });
    await popup.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(() => auditActions(service, corporateId), { timeout: 10_000 }).toContain('key.revealed_offline');
    await expect.poll(() => popup.locator('[data-keyward-state="offline"]').count()).toBe(0);
  });

  it('keeps no keys in the vault when the organisation sets offlineCache to metadata', async () => {
    const cachedKeys = async () => (JSON.parse(await dumpExtensionStorage(popup)) as { databases: Record<string, { keys: unknown[] }> }).databases['keyward-vault'].keys;
    expect((await cachedKeys()).length).toBeGreaterThan(0);
    await service.db.updateTable('org').set({ offline_cache: 'metadata' }).execute();
    await popup.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(cachedKeys).toEqual([]);
    await popup.getByRole('button', { name: 'Back' }).click();
    await getCorporateKey(popup);
    expect(await popup.locator('[data-keyward-key]').textContent()).toBe(corporateKey);
    expect(await cachedKeys()).toEqual([]);
  });

  it('a browser revoked from the portal is signed out at its next sync and forgets cached statuses and keys', async () => {
    const portal = await browser.context.newPage();
    await portal.goto(`${service.url}/browsers`);
    await portal.getByRole('button', { name: 'Revoke' }).first().click();
    await portal.getByText('The browser was signed out.').waitFor();
    await portal.close();
    await popup.getByRole('button', { name: 'Sync now' }).click();
    await popup.locator('[data-keyward-state="signed-out"]').waitFor();
    const worker = await browser.serviceWorker();
    const local = await worker.evaluate(() => (globalThis as unknown as { chrome: { storage: { local: { get(k: null): Promise<Record<string, unknown>> } } } }).chrome.storage.local.get(null));
    expect(local.tokens).toBeUndefined();
    expect(local.account).toBeUndefined();
    const vault = (JSON.parse(await dumpExtensionStorage(popup)) as { databases: Record<string, { devices: unknown[]; keys: unknown[] }> }).databases['keyward-vault'];
    expect(vault.devices).toEqual([]);
    expect(vault.keys).toEqual([]);
    const reopened = await openPopup(browser);
    await reopened.locator('[data-keyward-state="signed-out"]').waitFor();
    expect(await reopened.locator('[data-keyward-device]').count()).toBe(0);
    expect(await reopened.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    await reopened.close();
  });

  it("signed out, the portal device page keeps its own forms instead of panels that could not work", async () => {
    const portal = await browser.context.newPage();
    await openDevicePage(portal, service.url, corporateId);
    await portal.locator('#get-form').waitFor();
    await portal.waitForTimeout(1_000);
    expect(await portal.locator('keyward-panel').count()).toBe(0);
    expect(await portal.locator('#get-form').isVisible()).toBe(true);
    expect(await portal.locator('#store-form').isVisible()).toBe(true);
    await portal.close();
  });
});
