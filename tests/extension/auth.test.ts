/**
 * Sign-in and tokens in the background (entrypoints/background/auth.ts) against WXT's fake
 * browser and a stand-in service: the PKCE secret stays in storage.session, an answer only
 * counts for the request this extension sent, to the service it was sent to; tokens are
 * refreshed before they expire, once for concurrent callers; a refused refresh signs out.
 */
import { fakeBrowser, resetExtension } from './fake-extension.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { currentAccessToken, finishSignIn, isSignedIn, onSignedOut, startSignIn } from '../../entrypoints/background/auth.ts';
import { writeSettings } from '../../entrypoints/background/settings.ts';
import { accountItem, pendingSignInItem, tokensItem } from '../../entrypoints/background/storage-items.ts';
import { startFakeService, type FakeService } from './fake-service.ts';

let service: FakeService;
beforeAll(async () => {
  service = await startFakeService();
});
afterAll(() => service.close());
beforeEach(async () => {
  resetExtension();
  service.requests.length = 0;
  service.revokedRefreshTokens.clear();
  await writeSettings({ serviceUrl: service.url });
});

describe('sign-in', () => {
  it('keeps the PKCE secret in storage.session and sends the service only its challenge', async () => {
    const started = await startSignIn();
    if (!started.ok) throw new Error('no sign-in');
    const pending = await pendingSignInItem.getValue();
    expect(pending).toMatchObject({ serviceUrl: service.url, redirectUri: 'chrome-extension://test-extension-id/callback.html' });
    const url = new URL(started.authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${service.url}/oauth/authorize`);
    expect(url.searchParams.get('state')).toBe(pending?.state);
    expect(url.searchParams.get('code_challenge')).toBe(pending?.challenge);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(started.authorizeUrl).not.toContain(pending?.verifier ?? 'no verifier');
    expect(JSON.stringify(await fakeBrowser.storage.local.get(null))).not.toContain(pending?.verifier ?? 'no verifier');
  });

  it('finishes only for the state it sent, with the verifier, and keeps the tokens', async () => {
    const started = await startSignIn();
    if (!started.ok) throw new Error('no sign-in');
    const pending = await pendingSignInItem.getValue();
    expect(await finishSignIn('a-code', 'a-guessed-state')).toMatchObject({ ok: false, error: { code: 'invalid_grant' } });
    expect(await pendingSignInItem.getValue(), 'a wrong answer leaves the real one possible').toEqual(pending);
    expect(service.requests).toEqual([]);

    expect(await finishSignIn('the-code', pending!.state)).toEqual({ ok: true });
    expect(service.requests.map((r) => r.form)).toEqual([{
      grant_type: 'authorization_code', code: 'the-code', redirect_uri: pending!.redirectUri, client_id: 'keyward-extension', code_verifier: pending!.verifier,
    }]);
    expect(await tokensItem.getValue()).toMatchObject({ accessToken: `access-${service.issued}`, refreshToken: `refresh-${service.issued}` });
    expect(await pendingSignInItem.getValue()).toBeNull();
    expect(await isSignedIn()).toBe(true);
  });

  it('refuses an answer when the service was changed during the sign-in', async () => {
    const started = await startSignIn();
    if (!started.ok) throw new Error('no sign-in');
    const { state } = (await pendingSignInItem.getValue())!;
    await writeSettings({ serviceUrl: 'https://other.example.com' });
    expect(await finishSignIn('the-code', state)).toMatchObject({ ok: false, error: { code: 'invalid_grant' } });
    expect(service.requests).toEqual([]);
    expect(await isSignedIn()).toBe(false);
  });
});

describe('tokens', () => {
  it('uses a fresh access token as it is, and refreshes an expiring one once for concurrent callers', async () => {
    await tokensItem.setValue({ accessToken: 'fresh', refreshToken: 'refresh-0', expiresAt: Date.now() + 10 * 60_000 });
    expect(await currentAccessToken()).toBe('fresh');
    expect(service.requests).toEqual([]);

    await tokensItem.setValue({ accessToken: 'old', refreshToken: 'refresh-0', expiresAt: Date.now() + 30_000 });
    const tokens = await Promise.all([currentAccessToken(), currentAccessToken(), currentAccessToken()]);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^access-\d+$/);
    expect(service.requests.map((r) => r.form?.grant_type)).toEqual(['refresh_token']);
    expect(service.requests[0].form?.refresh_token).toBe('refresh-0');
    expect((await tokensItem.getValue())?.refreshToken).toMatch(/^refresh-\d+$/);
  });

  it('a refused refresh signs out: tokens and account go, and the background forgets the rest', async () => {
    let forgotten = 0;
    onSignedOut(async () => void (forgotten += 1));
    await tokensItem.setValue({ accessToken: 'old', refreshToken: 'revoked', expiresAt: Date.now() - 1 });
    await accountItem.setValue({ name: 'Astrid Lund', email: 'astrid@example.com', supportContact: 'it@example.com', locale: null, offlineCache: 'keys' });
    service.revokedRefreshTokens.add('revoked');
    expect(await currentAccessToken()).toBeNull();
    expect(await isSignedIn()).toBe(false);
    expect(await accountItem.getValue()).toBeNull();
    expect(forgotten).toBe(1);
  });

  it('an unreachable service keeps the sign-in', async () => {
    await writeSettings({ serviceUrl: 'http://127.0.0.1:9' });
    await tokensItem.setValue({ accessToken: 'old', refreshToken: 'refresh-0', expiresAt: Date.now() - 1 });
    expect(await currentAccessToken()).toBe('old');
    expect(await isSignedIn()).toBe(true);
  });
});
