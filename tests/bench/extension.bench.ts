/**
 * Extension figures: `popup_status_ms` (popup navigation start → statuses of 50 cached
 * devices on screen, read from the popup's own `keyward:statuses` performance mark) and the
 * gzipped sizes of the built Chrome bundles (popup, portal content script, background).
 * Needs `npm run build:chrome` first (`npm run bench` does it).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EXTENSION_DIR, launchWithExtension } from '../support/browser.ts';
import { report, reportValue } from './stats.ts';

const RUNS = 15;
const DEVICES = 50;

/** Every file a bundle entry loads: the entry and its static imports, followed transitively. */
function bundleFiles(entries: string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith('.js')) return;
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:from|import)\s*"(\.{1,2}\/[^"]+\.js)"/g)) visit(resolve(dirname(file), match[1]));
  };
  entries.forEach(visit);
  return [...seen];
}

function htmlEntries(page: string): string[] {
  const html = readFileSync(join(EXTENSION_DIR, page), 'utf8');
  return [...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => join(EXTENSION_DIR, m[1]));
}

function gzipKb(files: string[]): number {
  return files.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0) / 1024;
}

function reportBundles(): void {
  const popup = bundleFiles(htmlEntries('popup.html'));
  const content = bundleFiles([join(EXTENSION_DIR, 'content-scripts/portal.js')]);
  const background = bundleFiles([join(EXTENSION_DIR, 'background.js')]);
  reportValue('bundle_popup_gzip_kb', gzipKb(popup), 'KiB', `chrome-mv3 popup.html + ${popup.length} files, gzip -9`);
  reportValue('bundle_content_gzip_kb', gzipKb(content), 'KiB', 'chrome-mv3 content-scripts/portal.js, gzip -9');
  reportValue('bundle_background_gzip_kb', gzipKb(background), 'KiB', 'chrome-mv3 background.js (vault, scrypt wasm, API client), gzip -9');
}

function demoDevice(i: number) {
  const statuses = ['escrowed', 'missing', 'pending', 'failed'] as const;
  const at = new Date(Date.UTC(2026, 10, 1, 8, i)).toISOString();
  return {
    id: `bench-device-${String(i).padStart(3, '0')}`, name: `Bench device ${i + 1}`, platform: 'macos', ownership: i % 3 ? 'corporate' : 'personal',
    keyKind: 'filevault', ownerId: 'bench-user', ownerName: 'Bench User', escrowEnabled: true, lastCheckinAt: at,
    keyStatus: statuses[i % statuses.length], volumes: [{ id: `vol-${i}`, name: 'Macintosh HD', keyStatus: statuses[i % statuses.length], activeVersion: 1, protectorIds: [] }],
    operation: null, notice: null, updatedAt: at,
  };
}

async function measurePopup(): Promise<void> {
  const browser = await launchWithExtension();
  try {
    const page = await browser.context.newPage();
    await page.goto(browser.extensionUrl('options.html'));
    await page.evaluate(async () => {
      const runtime = (globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> } } }).chrome.runtime;
      await runtime.sendMessage({ type: 'devices.cached' });
    });
    const devices = Array.from({ length: DEVICES }, (_, i) => demoDevice(i));
    await page.evaluate(async (rows) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const open = indexedDB.open('keyward-vault');
        open.onsuccess = () => ok(open.result);
        open.onerror = () => fail(open.error);
      });
      await new Promise<void>((ok, fail) => {
        const tx = db.transaction('devices', 'readwrite');
        for (const row of rows) tx.objectStore('devices').put(row);
        tx.oncomplete = () => ok();
        tx.onerror = () => fail(tx.error);
      });
      db.close();
    }, devices);
    await page.evaluate(async () => {
      const area = (globalThis as unknown as { chrome: { storage: { local: { set(v: unknown): Promise<void> } } } }).chrome.storage.local;
      await area.set({ tokens: { accessToken: 'bench', refreshToken: 'bench', expiresAt: Date.now() + 3_600_000 }, syncStatus: { online: true, lastSyncAt: new Date().toISOString(), cursor: null } });
    });
    const samples: number[] = [];
    for (let run = 0; run < RUNS + 2; run++) {
      await page.goto(browser.extensionUrl('popup.html'));
      await page.waitForFunction(() => document.documentElement.dataset.popupStatusMs !== undefined);
      const shown = await page.locator('[data-keyward-status]').count();
      if (shown !== DEVICES) throw new Error(`popup showed ${shown} statuses, expected ${DEVICES}`);
      const ms = await page.evaluate(() => performance.getEntriesByName('keyward:statuses')[0].startTime);
      if (run >= 2) samples.push(ms);
    }
    report('popup_status_ms', samples, 'ms', `chromium headless, ${DEVICES} cached devices, navigation start → statuses painted (2 warm-up runs)`);
  } finally {
    await browser.close();
  }
}

reportBundles();
await measurePopup();
