/**
 * Sign-in with OAuth 2.0 code + PKCE: opens the service's authorize page in a tab, finishes
 * on callback.html, keeps the tokens in storage.local and refreshes them before they expire.
 */
import { browser } from 'wxt/browser';
import { authorizeUrl, createPkceRequest, exchangeCode, refreshTokens, type PkceRequest } from '../../lib/client/oauth.ts';
import { failure, type Done } from '../../lib/client/messages.ts';
import { readSettings, readTokens, writeAccount, writeTokens } from './settings.ts';

const REFRESH_MARGIN_MS = 60_000;

export function callbackUrl(): string {
  return browser.runtime.getURL('/callback.html');
}

export async function startSignIn(): Promise<Done> {
  const { serviceUrl } = await readSettings();
  const pkce = await createPkceRequest();
  await browser.storage.session.set({ pkce });
  await browser.tabs.create({ url: authorizeUrl(serviceUrl, callbackUrl(), pkce) });
  return { ok: true };
}

export async function finishSignIn(code: string, state: string): Promise<Done> {
  const { pkce } = (await browser.storage.session.get('pkce')) as { pkce?: PkceRequest };
  if (!pkce || pkce.state !== state) return failure('invalid_grant', 'The sign-in answer does not match the request.');
  await browser.storage.session.remove('pkce');
  const { serviceUrl } = await readSettings();
  const result = await exchangeCode(serviceUrl, code, callbackUrl(), pkce.verifier);
  if (!result.ok) return result;
  await writeTokens(result.data);
  return { ok: true };
}

export async function signOut(): Promise<void> {
  await writeTokens(null);
  await writeAccount(null);
}

let refreshing: Promise<string | null> | null = null;

/** Exchanges the refresh token once, even when several requests ask at the same time. */
export function refreshAccessToken(): Promise<string | null> {
  refreshing ??= (async () => {
    const tokens = await readTokens();
    if (!tokens?.refreshToken) return null;
    const { serviceUrl } = await readSettings();
    const result = await refreshTokens(serviceUrl, tokens.refreshToken);
    if (!result.ok) {
      if (result.error.code !== 'network') await writeTokens(null);
      return null;
    }
    await writeTokens({ ...result.data, refreshToken: result.data.refreshToken ?? tokens.refreshToken });
    return result.data.accessToken;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export async function currentAccessToken(): Promise<string | null> {
  const tokens = await readTokens();
  if (!tokens) return null;
  if (tokens.expiresAt - REFRESH_MARGIN_MS > Date.now()) return tokens.accessToken;
  return (await refreshAccessToken()) ?? tokens.accessToken;
}

export async function isSignedIn(): Promise<boolean> {
  return (await readTokens()) !== null;
}
