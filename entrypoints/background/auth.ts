/**
 * Sign-in with OAuth 2.0 code + PKCE: prepares the request (the PKCE secret stays here, in
 * storage.session), lets an extension page open the service's consent page
 * (utils/sign-in.ts), finishes when that page's answer is handed back, keeps the tokens in
 * storage.local and refreshes them before they expire.
 * A refresh the service rejects (revoked from the portal, expired) ends the sign-in exactly
 * like "Sign out": tokens, account and sync cursor go, and the `onSignedOut` handler (the
 * background: lock the vault, forget cached devices and keys) runs.
 */
import { browser } from 'wxt/browser';
import { authorizeUrl, createPkceRequest, exchangeCode, refreshTokens, type StoredTokens } from '../../utils/client/oauth.ts';
import { failure, type Done } from '../../utils/client/messages.ts';
import { readSettings } from './settings.ts';
import { accountItem, pendingSignInItem, tokensItem, type PendingSignIn } from './storage-items.ts';
import { updateSyncStatus } from './sync-status.ts';

const REFRESH_MARGIN_MS = 60_000;

let afterSignOut: () => Promise<void> = async () => undefined;

/** What else to forget when the sign-in ends (set once by the background). */
export function onSignedOut(handler: () => Promise<void>): void {
  afterSignOut = handler;
}

/**
 * Where the service sends this build's code; each is on the service's allow-list by default and
 * only this extension can receive it. Chrome/Edge: our callback page under the id pinned by the
 * manifest key. Firefox: the identity redirect URL derived from the gecko id, since the
 * moz-extension:// host is a random UUID per install that no allow-list can name.
 */
function redirectUri(): string {
  return import.meta.env.FIREFOX ? browser.identity.getRedirectURL() : browser.runtime.getURL('/callback.html');
}

export async function startSignIn(): Promise<Done<{ authorizeUrl: string }>> {
  const { serviceUrl } = await readSettings();
  const pkce: PendingSignIn = { ...(await createPkceRequest()), serviceUrl, redirectUri: redirectUri() };
  await pendingSignInItem.setValue(pkce);
  return { ok: true, authorizeUrl: authorizeUrl(serviceUrl, pkce.redirectUri, pkce) };
}

export async function finishSignIn(code: string, state: string): Promise<Done> {
  const pkce = await pendingSignInItem.getValue();
  if (!pkce || pkce.state !== state) return failure('invalid_grant', 'The sign-in answer does not match the request.');
  await pendingSignInItem.removeValue();
  const { serviceUrl } = await readSettings();
  if (pkce.serviceUrl !== serviceUrl) return failure('invalid_grant', 'The escrow service changed during sign-in.');
  const result = await exchangeCode(serviceUrl, code, pkce.redirectUri, pkce.verifier);
  if (!result.ok) return result;
  await tokensItem.setValue(result.data);
  return { ok: true };
}

export async function signOut(): Promise<void> {
  await tokensItem.removeValue();
  await accountItem.removeValue();
  await updateSyncStatus({ cursor: null, lastSyncAt: null, lastFullSyncAt: null });
  await afterSignOut();
}

/** The service said no to the refresh token (as opposed to being unreachable or failing). */
function refreshRejected(error: { code: string; status?: number }): boolean {
  return error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429;
}

let refreshing: Promise<string | null> | null = null;

/** Exchanges the refresh token once, even when several requests ask at the same time. */
export function refreshAccessToken(): Promise<string | null> {
  refreshing ??= (async () => {
    const tokens = await tokensItem.getValue();
    if (!tokens?.refreshToken) return null;
    const { serviceUrl } = await readSettings();
    const result = await refreshTokens(serviceUrl, tokens.refreshToken);
    if (!result.ok) {
      if (refreshRejected(result.error)) await signOut();
      return null;
    }
    const refreshed: StoredTokens = { ...result.data, refreshToken: result.data.refreshToken ?? tokens.refreshToken };
    await tokensItem.setValue(refreshed);
    return result.data.accessToken;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export async function currentAccessToken(): Promise<string | null> {
  const tokens = await tokensItem.getValue();
  if (!tokens) return null;
  if (tokens.expiresAt - REFRESH_MARGIN_MS > Date.now()) return tokens.accessToken;
  return (await refreshAccessToken()) ?? (await tokensItem.getValue())?.accessToken ?? null;
}

export async function isSignedIn(): Promise<boolean> {
  return (await tokensItem.getValue()) !== null;
}
