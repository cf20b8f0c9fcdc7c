/**
 * Who the Keyward extension is, in each browser, so the escrow service can send sign-in codes
 * to it and to nothing else. Used by the build (wxt.config.ts) and by the service's default
 * allow-list of OAuth clients (server/auth/oauth-clients.ts).
 *
 * Chrome and Edge: the manifest `key` (the public half of an RSA key pair, base64
 * SubjectPublicKeyInfo DER) fixes the extension id: the first 32 hex digits of SHA-256 of the
 * DER, each digit 0-f written as a letter a-p. Only an extension with this key has this id, so
 * only ours can receive `chrome-extension://<id>/callback.html`. The private key is not kept
 * anywhere in this repository; an unpacked or self-hosted build needs only the public key.
 *
 * Firefox: the moz-extension:// host is a random UUID per install, so it cannot be listed.
 * Sign-in there uses `identity.launchWebAuthFlow` with the redirect URL Firefox derives from
 * the gecko id (computed on the service side from FIREFOX_GECKO_ID).
 */

export const CHROME_EXTENSION_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3xrbXqink7DM4FB6PyvK067C9cB3j7c7+KpvSWvHHdZQbdbc0YluqSEqqYMob+m1y1M95VlGHmIlTseLh11hZT9+3pBSsBeKXKyhmB7saHpJpt1b53OwUjWP+e7pMiCu7iC9G+tEOvO0saFr4DM1E3dPDhFRIvs8MpzwUNxaa8/+olC05dY1GGX6wLM4dTzbFxUa7jmx4MHHdaJ+FPggU/Et7ZZX9ghqMepbec1oQSFP2/Sd3QDkHkHSDgrcBzsmn4L+NfMccuCb4+O/DVve6v9iCGLBZzeMQv4DQm/Y4vHCnuHd2wZQZwzzUySppjCojqf4rxnz7lYPQhGsZ/oMgwIDAQAB';

/** The id Chrome and Edge give the extension built with CHROME_EXTENSION_PUBLIC_KEY. */
export const CHROME_EXTENSION_ID = 'bclpjgkhldncjchpaanfobdhjfmflecf';

/** The page the service redirects Chrome and Edge sign-ins to. */
export function chromeCallbackUrl(extensionId: string): string {
  return `chrome-extension://${extensionId}/callback.html`;
}

export const CHROME_REDIRECT_URI = chromeCallbackUrl(CHROME_EXTENSION_ID);

/** `browser_specific_settings.gecko.id` of the Firefox build. */
export const FIREFOX_GECKO_ID = 'keyward@keyward.example';
