/**
 * The browsers the end-to-end scenarios run in: Chromium and Firefox by default, or those
 * named in KEYWARD_E2E_BROWSERS (e.g. `firefox`, to time or debug one of them).
 */
import type { Page } from 'playwright-core';
import type { ExtensionBrowser } from './browser.ts';
import { ChromiumDriver, ChromiumTab } from './chromium-driver.ts';
import type { BrowserName, ExtensionDriver, Tab } from './driver.ts';
import { FirefoxDriver } from './firefox-driver.ts';

const ALL: BrowserName[] = ['chromium', 'firefox'];

export const E2E_BROWSERS: BrowserName[] = (process.env.KEYWARD_E2E_BROWSERS ?? ALL.join(','))
  .split(',').map((name) => name.trim()).filter((name): name is BrowserName => ALL.includes(name as BrowserName));

export function launchDriver(name: BrowserName): Promise<ExtensionDriver> {
  return name === 'chromium' ? ChromiumDriver.launch() : FirefoxDriver.launch();
}

/** The Playwright objects behind a Chromium driver and tab, for the checks only the DevTools protocol can make. */
export function chromiumDriverOf(driver: ExtensionDriver, tab: Tab): { browser: ExtensionBrowser; tab: Page } {
  if (!(driver instanceof ChromiumDriver) || !(tab instanceof ChromiumTab)) throw new Error('This check needs the Chromium driver.');
  return { browser: driver.browser, tab: tab.playwright };
}
