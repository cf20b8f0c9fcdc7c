/**
 * Launches the system Chromium with the built extension (.output/chrome-mv3) through
 * playwright-core, and finds the extension's id from its service worker's URL: it must be the
 * id pinned by the manifest key, the one the escrow service allow-lists.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Worker } from 'playwright-core';
import { CHROME_EXTENSION_ID } from '../../lib/extension-identity.ts';

export const EXTENSION_DIR = resolve(import.meta.dirname, '../../.output/chrome-mv3');

export type ExtensionBrowser = {
  context: BrowserContext;
  extensionId: string;
  extensionUrl: (path: string) => string;
  serviceWorker: () => Promise<Worker>;
  profileDir: string;
  /** Closes the browser; the profile is deleted unless `keepProfile` (to start it again). */
  close: (options?: { keepProfile?: boolean }) => Promise<void>;
};

/** Launches Chromium with the extension, on a new profile or an existing one (a browser restart). */
export async function launchWithExtension(existingProfile?: string): Promise<ExtensionBrowser> {
  if (!existsSync(join(EXTENSION_DIR, 'manifest.json'))) {
    throw new Error(`No built extension in ${EXTENSION_DIR}: run \`npm run build:chrome\` first.`);
  }
  const profile = existingProfile ?? mkdtempSync(join(tmpdir(), 'keyward-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run',
    ],
  });
  const serviceWorker = async () => context.serviceWorkers().filter((w) => w.url().endsWith('/background.js')).at(-1)
    ?? context.waitForEvent('serviceworker', { predicate: (w) => w.url().endsWith('/background.js'), timeout: 15_000 });
  const worker = await serviceWorker();
  const extensionId = new URL(worker.url()).host;
  if (extensionId !== CHROME_EXTENSION_ID) {
    await context.close();
    if (!existingProfile) rmSync(profile, { recursive: true, force: true });
    throw new Error(`The built extension runs as ${extensionId}, not as the pinned ${CHROME_EXTENSION_ID}: check the manifest key.`);
  }
  return {
    context,
    extensionId,
    extensionUrl: (path) => `chrome-extension://${extensionId}/${path.replace(/^\//, '')}`,
    serviceWorker,
    profileDir: profile,
    close: async (options = {}) => {
      await context.close();
      if (!options.keepProfile) rmSync(profile, { recursive: true, force: true });
    },
  };
}
