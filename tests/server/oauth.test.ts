/**
 * The extension's sign-in over real HTTP: authorization code + PKCE (S256) through the
 * portal's sign-in and "Allow", token exchange, API access, rotating refresh tokens, reuse of
 * an old refresh token revoking the whole browser, and revocation from "Connected browsers".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { DEMO_USERS } from '../../server/seed.ts';
import { PortalBrowser } from './browser-session.ts';
import { pkcePair, REDIRECT_URI } from './harness.ts';

type Tokens = { access_token: string; refresh_token: string; expires_in: number; token_type: string };

describe('OAuth 2.0 code + PKCE for the extension', () => {
  let dataDir: string;
  let server: KeywardServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyward-oauth-'));
    server = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function authorizePath(challenge: string, state: string, redirect = REDIRECT_URI): string {
    const q = new URLSearchParams({ response_type: 'code', client_id: 'keyward-extension', redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', state });
    return `/oauth/authorize?${q}`;
  }

  async function token(body: Record<string, string>): Promise<{ status: number; json: Tokens & { error?: { code: string } } }> {
    const res = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    return { status: res.status, json: (await res.json()) as Tokens & { error?: { code: string } } };
  }

  async function me(accessToken: string): Promise<number> {
    return (await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
  }

  /** Sign in through the portal, allow, and return the code the callback receives. */
  async function authorize(b: PortalBrowser, challenge: string, state: string): Promise<string> {
    const next = authorizePath(challenge, state);
    const first = await b.get(next);
    if (!b.cookies.has('kw_session')) {
      expect(first.res.status).toBe(303);
      expect(new URL(first.res.headers.get('location') ?? '', server.url).searchParams.get('next')).toBe(next);
      const login = await b.get(`/login?next=${encodeURIComponent(next)}`);
      const signed = await b.post('/login', { _csrf: PortalBrowser.csrfOf(login.text), email: DEMO_USERS.user.email, password: DEMO_USERS.user.password, next });
      expect(signed.res.headers.get('location')).toBe(next);
    }
    const consent = await b.get(next);
    expect(consent.res.status).toBe(200);
    expect(consent.res.headers.get('content-security-policy')).toContain(`form-action 'self' ${REDIRECT_URI.replace('/callback.html', '')}`);
    const allow = await b.post('/oauth/authorize', {
      _csrf: PortalBrowser.csrfOf(consent.text), decision: 'allow', client_id: 'keyward-extension', redirect_uri: REDIRECT_URI,
      response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256', state,
    });
    expect(allow.res.status).toBe(302);
    const callback = new URL(allow.res.headers.get('location') ?? '');
    expect(`${callback.protocol}//${callback.host}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(state);
    return callback.searchParams.get('code') ?? '';
  }

  it('sign-in → Allow → code → tokens; the code works once and only with its verifier', async () => {
    const b = new PortalBrowser(server.url);
    const { verifier, challenge } = pkcePair();
    const code = await authorize(b, challenge, 'st-123');
    const wrongVerifier = await token({ grant_type: 'authorization_code', code, code_verifier: pkcePair().verifier, redirect_uri: REDIRECT_URI, client_id: 'keyward-extension' });
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.json.error?.code).toBe('invalid_grant');
    // The failed attempt spent the code: a stolen code cannot be retried.
    const retry = await token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: 'keyward-extension' });
    expect(retry.status).toBe(400);

    const code2 = await authorize(b, challenge, 'st-456');
    const ok = await token({ grant_type: 'authorization_code', code: code2, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: 'keyward-extension' });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    expect(await me(ok.json.access_token)).toBe(200);
  });

  it('refresh tokens rotate; presenting an old one signs that browser out entirely', async () => {
    const b = new PortalBrowser(server.url);
    const { verifier, challenge } = pkcePair();
    const code = await authorize(b, challenge, 's');
    const first = (await token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: 'keyward-extension' })).json;
    const second = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    expect(second.json.refresh_token).not.toBe(first.refresh_token);
    expect(await me(second.json.access_token)).toBe(200);

    const replay = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(replay.status).toBe(400);
    expect(replay.json.error?.code).toBe('invalid_grant');
    expect(await me(second.json.access_token)).toBe(401);
    expect((await token({ grant_type: 'refresh_token', refresh_token: second.json.refresh_token })).status).toBe(400);
  });

  it('a browser appears under Connected browsers and revoking it ends its tokens', async () => {
    const b = new PortalBrowser(server.url);
    const { verifier, challenge } = pkcePair();
    const code = await authorize(b, challenge, 's');
    const tokens = (await token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: 'keyward-extension' })).json;
    const page = await b.get('/browsers');
    const ids = [...page.text.matchAll(/data-browser="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await b.post(`/browsers/${id}/revoke`, { _csrf: PortalBrowser.csrfOf(page.text) });
    expect(await me(tokens.access_token)).toBe(401);
    expect((await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status).toBe(400);
    expect((await b.get('/browsers')).text).toContain('id="no-browsers"');
  });

  it('a bad authorize request is an error page, never a redirect to an unknown place', async () => {
    const { challenge } = pkcePair();
    const b = new PortalBrowser(server.url);
    const evil = await b.get(authorizePath(challenge, 's', 'https://evil.example/callback.html'));
    expect(evil.res.status).toBe(400);
    expect(evil.res.headers.get('location')).toBeNull();
    const plain = await b.get(authorizePath(challenge, 's').replace('S256', 'plain'));
    expect(plain.res.status).toBe(400);
  });
});
