/**
 * The built extension in Chromium signs in through single sign-on without knowing it: its
 * sign-in tab reaches the portal's sign-in page, the person chooses "Sign in with <provider>"
 * (a real oidc-provider on 127.0.0.1), comes back to the consent page and allows the
 * extension; the browser's grant records the SSO sign-in it rests on. (Chromium: the
 * provider's pages are driven with playwright through the Chromium driver's browser.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSsoForm, saveSso } from '../../server/auth/oidc-settings.ts';
import { launchWithExtension, type ExtensionBrowser } from '../support/browser.ts';
import { ChromiumDriver } from '../support/chromium-driver.ts';
import { until } from '../support/driver.ts';
import { configureService, openPopup } from '../support/extension.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { startTestProvider, type TestProvider } from '../server/oidc-provider.ts';

const SECRET = 'e2e-client-secret-value';

let service: TestService;
let browser: ExtensionBrowser;
let provider: TestProvider;

beforeAll(async () => {
  [service, browser] = await Promise.all([startTestService(), launchWithExtension()]);
  provider = await startTestProvider({
    clients: [{ client_id: 'keyward', client_secret: SECRET, redirect_uris: [`${service.url}/sso/callback`], token_endpoint_auth_method: 'client_secret_basic' }],
    people: [{ sub: 'sam-0001', email: 'sam@demo.keyward.test', name: 'Sam Single', groups: ['staff'] }],
  });
  await saveSso(
    service.deps,
    parseSsoForm({
      enabled: '1', name: 'Demo ID', issuer: provider.issuer, clientId: 'keyward', clientAuth: 'client_secret_basic', clientSecret: SECRET,
      redirectUri: `${service.url}/sso/callback`, scopes: 'openid email profile groups', roleClaim: 'groups', adminValues: '', helpdeskValues: '',
      maxSessionHours: '8', localPasswords: '1', breakGlass: '',
    }),
    { actorId: null, actorKind: 'system', ip: null, at: new Date().toISOString() },
  );
});

afterAll(async () => {
  await browser?.close();
  await provider?.stop();
  await service?.close();
});

describe('the extension with single sign-on', () => {
  it('signs in through the provider on the portal and is connected on that SSO sign-in', async () => {
    const driver = new ChromiumDriver(browser);
    const options = await configureService(driver, service.url);
    const authorizeTab = browser.context.waitForEvent('page');
    await options.page.click('[data-keyward-action="sign-in"]');
    const tab = await authorizeTab;
    await tab.locator('#login-form').waitFor({ timeout: 20_000 });
    await tab.getByRole('link', { name: 'Sign in with Demo ID' }).click();
    await tab.locator('#consent-extension-id', { hasText: browser.extensionId }).waitFor({ timeout: 15_000 });
    await tab.getByRole('button', { name: 'Allow' }).click();
    await tab.locator('[data-keyward-callback="done"]').waitFor({ timeout: 15_000 });
    await tab.close();
    expect(await options.page.waitForText('[data-keyward-account="signed-in"]')).toContain('Sam Single');

    const popup = await openPopup(driver);
    await until(() => popup.page.text('main'), (text) => text?.includes('You have no devices yet.') ?? false, 'the empty device list', 10_000);
    const grants = await service.db
      .selectFrom('oauth_grants')
      .innerJoin('users', 'users.id', 'oauth_grants.user_id')
      .select(['oauth_grants.auth_method', 'users.email', 'users.oidc_subject'])
      .where('oauth_grants.revoked_at', 'is', null)
      .execute();
    expect(grants).toEqual([{ auth_method: 'sso', email: 'sam@demo.keyward.test', oidc_subject: 'sam-0001' }]);
  });
});
