/**
 * The extension's pinned identities: the Chrome/Edge id is the one Chrome derives from the
 * manifest `key` (SHA-256 of the public key's DER, first 32 hex digits written a-p), and the
 * Firefox redirect the service allow-lists is the one `identity.getRedirectURL()` returns
 * (hex SHA-1 of the gecko id under extensions.allizom.org). The service seeds both by default.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CHROME_EXTENSION_ID, CHROME_EXTENSION_PUBLIC_KEY, CHROME_REDIRECT_URI, FIREFOX_GECKO_ID } from '../../lib/extension-identity.ts';
import { parseClientForm } from '../../server/auth/oauth-clients.ts';
import { defaultClients, firefoxRedirectUri } from '../../server/auth/extension-clients.ts';

/** Chrome's rule for an extension id from its public key. */
function chromeIdFromKey(base64Der: string): string {
  const hex = createHash('sha256').update(Buffer.from(base64Der, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((digit) => String.fromCharCode('a'.charCodeAt(0) + parseInt(digit, 16))).join('');
}

describe('extension identity', () => {
  it('the manifest key is a 2048-bit RSA public key (no private part) and pins the Chrome id', () => {
    const key = createPublicKey({ key: Buffer.from(CHROME_EXTENSION_PUBLIC_KEY, 'base64'), format: 'der', type: 'spki' });
    expect(key.type).toBe('public');
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(chromeIdFromKey(CHROME_EXTENSION_PUBLIC_KEY)).toBe(CHROME_EXTENSION_ID);
    expect(CHROME_REDIRECT_URI).toBe(`chrome-extension://${CHROME_EXTENSION_ID}/callback.html`);
  });

  it('derives the Firefox redirect URL as Firefox does', () => {
    // The redirect a Firefox install reported for this published add-on id.
    expect(firefoxRedirectUri('otp-filler-gmail@luascfl.github.io')).toBe('https://b08a966e2cd56d5fdbe08615b80148bd4f58eaf3.extensions.allizom.org/');
    expect(firefoxRedirectUri(FIREFOX_GECKO_ID)).toBe('https://2a7ba011da2dfafbd223e9d146f585b41dedf44f.extensions.allizom.org/');
  });

  it('the service allow-lists the built extension by default', () => {
    expect(defaultClients()).toEqual([
      { id: CHROME_EXTENSION_ID, name: 'Keyward for Chrome', browser: 'chrome', redirectUri: CHROME_REDIRECT_URI },
      { id: FIREFOX_GECKO_ID, name: 'Keyward for Firefox', browser: 'firefox', redirectUri: firefoxRedirectUri(FIREFOX_GECKO_ID) },
    ]);
  });

  it('an admin-entered id gets the redirect of its browser', () => {
    expect(parseClientForm({ browser: 'edge', extensionId: ' ponmlkjihgfedcbaponmlkjihgfedcba ', name: 'Edge build' }).redirectUri).toBe('chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba/callback.html');
    expect(parseClientForm({ browser: 'firefox', extensionId: '{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9}', name: 'GUID id' }).redirectUri).toBe(firefoxRedirectUri('{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9}'));
    expect(() => parseClientForm({ browser: 'chrome', extensionId: 'ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP', name: 'x' })).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'extensionId' }));
  });

  it('names the first field of the form that is wrong: browser, then id, then name', () => {
    const refusedField = (form: Record<string, string>) => {
      try {
        parseClientForm(form);
      } catch (error) {
        return error instanceof Error && 'field' in error ? error.field : 'not an ApiFailure';
      }
      return 'accepted';
    };
    expect(refusedField({ browser: 'safari', extensionId: 'x', name: '' })).toBe('browser');
    expect(refusedField({ extensionId: 'ponmlkjihgfedcbaponmlkjihgfedcba', name: 'x' })).toBe('browser');
    expect(refusedField({ browser: 'firefox', extensionId: 'ponmlkjihgfedcbaponmlkjihgfedcba', name: '' })).toBe('extensionId');
    expect(refusedField({ browser: 'chrome', extensionId: 'keyward@example.org', name: 'x' })).toBe('extensionId');
    expect(refusedField({ browser: 'chrome', extensionId: 'ponmlkjihgfedcbaponmlkjihgfedcba', name: '  ' })).toBe('name');
    expect(refusedField({ browser: 'firefox', extensionId: 'keyward@example.org', name: 'n'.repeat(101) })).toBe('name');
    expect(refusedField({ browser: 'firefox', extensionId: ' keyward@example.org ', name: ' Keyward ' })).toBe('accepted');
  });
});
