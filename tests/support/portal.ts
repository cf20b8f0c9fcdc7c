/** The portal as a person uses it: sign in with the demo account, open a device page. */
import type { Page } from 'playwright-core';

export type PortalAccount = { email: string; password: string };

/** Fills the portal's sign-in form when the page shows one (no-op when already signed in). */
export async function signInToPortal(page: Page, account: PortalAccount): Promise<void> {
  const email = page.getByLabel('Email');
  if ((await email.count()) === 0) return;
  await email.fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await Promise.all([page.waitForLoadState('domcontentloaded'), page.getByRole('button', { name: 'Sign in' }).click()]);
}

export async function openDevicePage(page: Page, serviceUrl: string, deviceId: string): Promise<void> {
  await page.goto(`${serviceUrl}/devices/${encodeURIComponent(deviceId)}`);
}

/** The panel's shadow root content, located through the open shadow root of its host. */
export function panel(page: Page, kind: 'store' | 'get') {
  return page.locator(`[data-keyward-panel="${kind}"] keyward-panel`);
}
