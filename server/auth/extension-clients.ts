/**
 * Who an allowed extension is, without the database: the browsers, the redirect URI each
 * browser gives an extension id, and the built extension's own entries (seeded by migration
 * 0002). The allow-list itself is oauth-clients.ts.
 */
import { createHash } from 'node:crypto';
import { CHROME_EXTENSION_ID, chromeCallbackUrl, FIREFOX_GECKO_ID } from '../../lib/extension-identity.ts';

export const CLIENT_BROWSERS = ['chrome', 'edge', 'firefox'] as const;
export type ClientBrowser = (typeof CLIENT_BROWSERS)[number];

/** Product names, the same in every language. */
const BROWSER_NAMES: Record<ClientBrowser, string> = { chrome: 'Chrome', edge: 'Edge', firefox: 'Firefox' };

export function browserName(browser: string): string {
  return BROWSER_NAMES[CLIENT_BROWSERS.find((b) => b === browser) ?? 'chrome'];
}

export type OAuthClient = { id: string; name: string; browser: ClientBrowser; redirectUri: string };

/**
 * What Firefox's `identity.getRedirectURL()` returns for an add-on:
 * `https://<hex SHA-1 of the add-on id>.extensions.allizom.org/` (toolkit/components/extensions/
 * child/ext-identity.js; the domain is the default of the pref
 * `extensions.webextensions.identity.redirectDomain`). Firefox hands a redirect there back to the
 * extension with that id and never loads it, so no other extension or site receives the code.
 */
export function firefoxRedirectUri(geckoId: string): string {
  return `https://${createHash('sha1').update(geckoId, 'utf8').digest('hex')}.extensions.allizom.org/`;
}

export function redirectUriFor(browser: ClientBrowser, extensionId: string): string {
  return browser === 'firefox' ? firefoxRedirectUri(extensionId) : chromeCallbackUrl(extensionId);
}

/** The built extension's own entries, seeded by migration 0002. */
export function defaultClients(): OAuthClient[] {
  return [
    { id: CHROME_EXTENSION_ID, name: 'Keyward for Chrome', browser: 'chrome', redirectUri: redirectUriFor('chrome', CHROME_EXTENSION_ID) },
    { id: FIREFOX_GECKO_ID, name: 'Keyward for Firefox', browser: 'firefox', redirectUri: redirectUriFor('firefox', FIREFOX_GECKO_ID) },
  ];
}
