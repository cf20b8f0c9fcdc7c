/**
 * Sync and offline: the scheduled sync alarm brings service-side changes into the cached
 * statuses; with the escrow service down, the popup shows the offline state and still shows
 * a key saved (encrypted) in the vault, asking for the vault passphrase if it is locked; the portal panel shows toast M2 when a key cannot be
 * submitted; back online, "Sync now" reports the offline reveal to the service's audit log;
 * the `offlineCache: metadata` policy empties the key cache; a browser revoked from the
 * portal is signed out and forgets its cached devices and keys, and the portal keeps its own
 * forms while the extension is signed out. In Chromium and in Firefox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { E2E_BROWSERS, launchDriver } from '../support/browsers.ts';
import { until, type ExtensionDriver, type Tab } from '../support/driver.ts';
import { dumpExtensionStorage, openDevicePage, openPopup, readItem, setAlarm, setUpExtension, writeItem } from '../support/extension.ts';
import { ACCOUNT, TOKENS } from '../../entrypoints/background/storage-keys.ts';
import { auditActions } from '../support/evidence.ts';
import { DEMO_USER, fleetDevice, startTestService, type TestService } from '../support/service.ts';

describe.each(E2E_BROWSERS)('sync and offline in %s', (browserName) => {
  let service: TestService;
  let driver: ExtensionDriver;
  let popup: Tab;
  let corporateId: string;
  let corporateKey: string;

  beforeAll(async () => {
    [service, driver] = await Promise.all([startTestService(), launchDriver(browserName)]);
    const options = await setUpExtension(driver, service.url, DEMO_USER, 'offline vault passphrase');
    await options.close();
    const corporate = fleetDevice(service, 'Corporate MacBook');
    corporateId = corporate.deviceId;
    corporateKey = formatRecoveryKey('filevault', corporate.volumes[0].currentKey());
  });

  afterAll(async () => {
    await driver?.close();
    await service?.close();
  });

  const getCorporateKey = (page: Tab) => page.page.click({ button: 'Get recovery key: Corporate MacBook (simulated)' });
  const corporateStatus = () => `[data-keyward-device="${corporateId}"] [data-keyward-status]`;

  it('the scheduled sync alarm brings changes made on the service into the cached statuses', async () => {
    await service.db.updateTable('devices').set({ name: 'Corporate MacBook Pro (simulated)', updated_at: new Date().toISOString(), change_seq: null }).where('id', '=', corporateId).execute();
    const page = await openPopup(driver);
    // Unpacked and temporary extensions may set short alarms: let the five-minute sync alarm fire now.
    await setAlarm(page, 'keyward-sync', Date.now() + 50, 5);
    await until(async () => {
      await page.reload();
      await page.page.waitFor('main.kw-root');
      return page.page.text(`[data-keyward-device="${corporateId}"] .kw-device-name`);
    }, (name) => name === 'Corporate MacBook Pro (simulated)', 'the renamed device in the popup');
    await service.db.updateTable('devices').set({ name: 'Corporate MacBook (simulated)', updated_at: new Date().toISOString(), change_seq: null }).where('id', '=', corporateId).execute();
    await page.page.click({ button: 'Sync now' });
    await until(() => page.page.text(`[data-keyward-device="${corporateId}"] .kw-device-name`), (name) => name === 'Corporate MacBook (simulated)', 'the device name back');
    await page.close();
  });

  it('refreshes an expired access token (rotating the refresh token) and stays signed in', async () => {
    const page = await openPopup(driver);
    const readTokens = () => readItem(page, TOKENS);
    const before = (await readTokens())!;
    await writeItem(page, TOKENS, { ...before, expiresAt: Date.now() - 1_000 });
    await page.page.click({ button: 'Sync now' });
    await until(async () => (await readTokens())?.accessToken, (token) => token !== before.accessToken, 'a new access token');
    const after = (await readTokens())!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now());
    expect(await page.page.count('[data-keyward-state="signed-out"]')).toBe(0);
    expect(await page.page.count('[data-keyward-device]')).toBeGreaterThan(0);
    await page.close();
  });

  it('shows a key cached in the vault while the service is down, and says it is offline', async () => {
    popup = await openPopup(driver);
    await getCorporateKey(popup);
    expect(await popup.page.waitForText('[data-keyward-key]')).toBe(corporateKey);

    const portal = await openDevicePage(driver, service.url, fleetDevice(service, 'Personal MacBook').deviceId);
    await portal.panel('store').waitFor('[data-keyward-store]');

    expect(await auditActions(service, corporateId)).not.toContain('key.revealed_offline');
    await service.stop();
    await popup.page.click({ button: 'Sync now' });
    await popup.page.waitFor('[data-keyward-state="offline"]');
    await popup.page.click({ button: 'Back' });
    await getCorporateKey(popup);
    expect(await popup.page.waitForText('[data-keyward-key]')).toBe(corporateKey);
    expect(await popup.page.text('[data-keyward-retrieve]')).toContain('Offline: shown from the vault on this computer');
    expect(await popup.page.text(corporateStatus())).toBe('Key escrowed');

    // Offline, the vault passphrase guards the saved copy: locked, the popup asks for it.
    await popup.page.click({ button: 'Back' });
    await popup.page.click('[data-keyward-vault="unlocked"]');
    await popup.page.waitFor('[data-keyward-vault="locked"]');
    await getCorporateKey(popup);
    expect(await popup.page.waitForText('[data-keyward-unlock] p')).toBe('The escrow service cannot be reached. Enter your vault passphrase to see the copy saved on this computer.');
    await popup.page.fill({ label: 'Vault passphrase' }, 'offline vault passphrase');
    await popup.page.click({ button: 'Unlock' });
    expect(await popup.page.waitForText('[data-keyward-key]', 45_000)).toBe(corporateKey);
    expect(await popup.page.text('[data-keyward-retrieve]')).toContain('Offline: shown from the vault on this computer');

    const store = portal.panel('store');
    await store.fill({ label: 'Recovery key' }, corporateKey);
    await store.fill({ label: 'Confirm recovery key' }, corporateKey);
    await store.click({ button: 'Save' });
    // Unreachable, nothing happened on the device: the panel says so, not the device-side M2.
    expect(await store.waitForText('[data-keyward-toast="unreachable"]')).toContain("The escrow service couldn't be reached, so the recovery key was not stored. Check your connection and try again.");
    expect(await store.count('[data-keyward-toast="M2"]')).toBe(0);
    await portal.close();
  }, 90_000); // includes a vault unlock (scrypt): slow on a loaded machine

  it('reports the offline reveal to the audit log when back online', async () => {
    service = await startTestService({ port: service.port, dataDir: service.dataDir });
    await popup.page.click({ button: 'Sync now' });
    await until(() => auditActions(service, corporateId), (actions) => actions.includes('key.revealed_offline'), 'the offline reveal in the audit log');
    await until(() => popup.page.count('[data-keyward-state="offline"]'), (n) => n === 0, 'the popup back online');
  });

  it('keeps no keys in the vault when the organisation sets offlineCache to metadata', async () => {
    const cachedKeys = async () => (JSON.parse(await dumpExtensionStorage(popup)) as { databases: Record<string, { keys: unknown[] }> }).databases['keyward-vault'].keys;
    expect((await cachedKeys()).length).toBeGreaterThan(0);
    await service.db.updateTable('org').set({ offline_cache: 'metadata' }).execute();
    await popup.page.click({ button: 'Sync now' });
    await until(cachedKeys, (keys) => keys.length === 0, 'the key cache to empty');
    await popup.page.click({ button: 'Back' });
    await getCorporateKey(popup);
    expect(await popup.page.waitForText('[data-keyward-key]')).toBe(corporateKey);
    expect(await cachedKeys()).toEqual([]);
  });

  it('a browser revoked from the portal is signed out at its next sync and forgets cached statuses and keys', async () => {
    const portal = await driver.newTab();
    await portal.goto(`${service.url}/browsers`);
    await portal.page.click({ button: 'Revoke' });
    await until(() => portal.page.text('main'), (t) => t?.includes('The browser was signed out.') ?? false, 'the revoked notice');
    await portal.close();
    await popup.page.click({ button: 'Sync now' });
    await popup.page.waitFor('[data-keyward-state="signed-out"]');
    expect(await readItem(popup, TOKENS)).toBeNull();
    expect(await readItem(popup, ACCOUNT)).toBeNull();
    const vault = (JSON.parse(await dumpExtensionStorage(popup)) as { databases: Record<string, { devices: unknown[]; keys: unknown[] }> }).databases['keyward-vault'];
    expect(vault.devices).toEqual([]);
    expect(vault.keys).toEqual([]);
    const reopened = await openPopup(driver);
    await reopened.page.waitFor('[data-keyward-state="signed-out"]');
    expect(await reopened.page.count('[data-keyward-device]')).toBe(0);
    expect(await reopened.page.count({ button: 'Sign in' })).toBe(1);
    await reopened.close();
  });

  it('signed out, the portal device page keeps its own forms instead of panels that could not work', async () => {
    const portal = await openDevicePage(driver, service.url, corporateId);
    await portal.page.waitFor('#get-form');
    // A second portal page loaded after this one has run its content script: the first had its turn too.
    const later = await openDevicePage(driver, service.url, corporateId);
    await later.page.waitFor('#store-form');
    expect(await portal.page.count('keyward-panel')).toBe(0);
    expect(await portal.page.count('#get-form')).toBe(1);
    expect(await portal.page.count('#store-form')).toBe(1);
    await later.close();
    await portal.close();
  });
});
