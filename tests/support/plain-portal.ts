/**
 * The portal on its own, without the extension: the system Chromium through playwright-core
 * (no extension loaded), and a signed-in browser context per person, as a person signs in on
 * the portal's own sign-in form.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { PortalAccount } from './portal.ts';

export function launchPlainChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** A new context signed in as `account`, on its first page (My devices). */
export async function signedInContext(browser: Browser, serviceUrl: string, account: PortalAccount, o: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ javaScriptEnabled: o.javaScriptEnabled ?? true, viewport: { width: 1000, height: 800 }, locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(`${serviceUrl}/login`);
  await page.fill('#email', account.email);
  await page.fill('#password', account.password);
  await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/devices') || url.pathname.startsWith('/admin')), page.click('main button[type=submit]')]);
  return { context, page };
}
