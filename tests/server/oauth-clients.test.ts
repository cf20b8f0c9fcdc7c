/**
 * Only allow-listed extensions get sign-in codes. A rogue Chrome extension id and a
 * moz-extension:// page are refused at the consent page (GET and POST, a localized 400 page and
 * never a redirect) and at the token endpoint (JSON 400 `invalid_client`); the built
 * extension's Chrome and Firefox redirects work; an admin adds an extension (then it can sign
 * in, named on the consent page) and removes it (then it is refused and every browser it
 * connected is signed out). Connected browsers name the extension, browser and OS, and
 * "last used" follows the use of the access token, written at most once a minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROME_EXTENSION_ID, CHROME_REDIRECT_URI, FIREFOX_GECKO_ID } from '../../lib/extension-identity.ts';
import { EXTENSION_CLIENT_ID, issueAuthorizationCode } from '../../server/auth/oauth.ts';
import { firefoxRedirectUri } from '../../server/auth/extension-clients.ts';
import { call, createHarness, pkcePair, portalLogin, postForm, type FormCredentials, type Harness } from './harness.ts';

const ROGUE_ID = 'ponmlkjihgfedcbaponmlkjihgfedcba';
const ROGUE_CHROME = `chrome-extension://${ROGUE_ID}/callback.html`;
const ROGUE_FIREFOX = 'moz-extension://4b1f2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/callback.html';
const FIREFOX_REDIRECT = firefoxRedirectUri(FIREFOX_GECKO_ID);
const WINDOWS_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

describe.each(['sqlite', 'postgres'] as const)('OAuth client allow-list (%s)', (kind) => {
  let h: Harness;
  let user: FormCredentials;
  let admin: FormCredentials;

  beforeAll(async () => {
    h = await createHarness(kind);
    user = await portalLogin(h, h.people.owner.id);
    admin = await portalLogin(h, h.people.admin.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  function authorizeFields(redirectUri: string, challenge: string, state = 'st-1'): Record<string, string> {
    return { response_type: 'code', client_id: EXTENSION_CLIENT_ID, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state };
  }

  async function getPage(path: string, as: FormCredentials | null, language = 'en'): Promise<Response> {
    return h.app.request(path, { headers: { ...(as ? { cookie: as.cookie } : {}), 'accept-language': language } });
  }

  function consent(redirectUri: string, as: FormCredentials | null, language = 'en'): Promise<Response> {
    return getPage(`/oauth/authorize?${new URLSearchParams(authorizeFields(redirectUri, pkcePair().challenge))}`, as, language);
  }

  function exchange(code: string, verifier: string, redirectUri: string, userAgent = WINDOWS_CHROME) {
    return call(h.app, 'POST', '/oauth/token', null, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: EXTENSION_CLIENT_ID }, { 'user-agent': userAgent });
  }

  /** The user allows the extension on the consent page; returns the redirect it is sent to. */
  async function allow(redirectUri: string, challenge: string, state = 'st-1'): Promise<Response> {
    return postForm(h.app, '/oauth/authorize', user, { ...authorizeFields(redirectUri, challenge, state), decision: 'allow' });
  }

  /** Signs the owner in through the extension at `redirectUri`; returns its tokens. */
  async function signIn(redirectUri: string, userAgent = WINDOWS_CHROME): Promise<{ access_token: string; refresh_token: string }> {
    const { verifier, challenge } = pkcePair();
    const res = await allow(redirectUri, challenge);
    expect(res.status).toBe(302);
    const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await exchange(code, verifier, redirectUri, userAgent);
    expect(tokens.status).toBe(200);
    return { access_token: String(tokens.body.access_token), refresh_token: String(tokens.body.refresh_token) };
  }

  async function codeCount(): Promise<number> {
    return (await h.deps.db.selectFrom('oauth_codes').select('code_hash').execute()).length;
  }

  it.each([['a rogue Chrome extension id', ROGUE_CHROME], ['a moz-extension:// page', ROGUE_FIREFOX]])('refuses %s at the consent page, before and after sign-in, with a localized 400 page', async (_name, redirect) => {
    const anonymous = await consent(redirect, null, 'sv');
    expect(anonymous.status).toBe(400);
    expect(anonymous.headers.get('location')).toBeNull();
    expect(await anonymous.text()).toContain('Det här webbläsartillägget finns inte på organisationens lista över tillåtna tillägg');

    const signedIn = await consent(redirect, user);
    expect(signedIn.status).toBe(400);
    expect(signedIn.headers.get('location')).toBeNull();
    const page = await signedIn.text();
    expect(page).toContain('not on your organisation&#39;s list of allowed extensions');
    expect(page).not.toContain('id="consent"');
  });

  it.each([['a rogue Chrome extension id', ROGUE_CHROME], ['a moz-extension:// page', ROGUE_FIREFOX]])('refuses %s when the consent form is posted (allow or deny) and issues no code', async (_name, redirect) => {
    const before = await codeCount();
    for (const decision of ['allow', 'deny']) {
      const res = await postForm(h.app, '/oauth/authorize', user, { ...authorizeFields(redirect, pkcePair().challenge), decision });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('not on your organisation&#39;s list of allowed extensions');
    }
    expect(await codeCount()).toBe(before);
    await expect(issueAuthorizationCode(h.deps, h.people.owner.id, { clientId: EXTENSION_CLIENT_ID, redirectUri: redirect, codeChallenge: pkcePair().challenge, state: '' })).rejects.toMatchObject({ status: 400, code: 'invalid_client' });
  });

  it.each([['a rogue Chrome extension id', ROGUE_CHROME], ['a moz-extension:// page', ROGUE_FIREFOX]])('refuses %s at the token endpoint (JSON 400 invalid_client), even with a real code', async (_name, redirect) => {
    const { verifier, challenge } = pkcePair();
    const code = new URL((await allow(CHROME_REDIRECT_URI, challenge)).headers.get('location') ?? '').searchParams.get('code') ?? '';
    const refused = await exchange(code, verifier, redirect);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_client', field: 'redirect_uri' });
    expect(refused.body.access_token).toBeUndefined();
  });

  it('the built Chrome extension is named on the consent page and gets a code at its callback page', async () => {
    const res = await consent(CHROME_REDIRECT_URI, user);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain(`form-action 'self' chrome-extension://${CHROME_EXTENSION_ID}`);
    const page = await res.text();
    expect(page).toContain('The Chrome extension “Keyward for Chrome” wants to connect to your account.');
    expect(page).toContain(`<code id="consent-extension-id">${CHROME_EXTENSION_ID}</code>`);
    expect(page).toContain('<dd id="consent-browser">Chrome</dd>');

    const { verifier, challenge } = pkcePair();
    const allowed = await allow(CHROME_REDIRECT_URI, challenge, 'st-chrome');
    const callback = new URL(allowed.headers.get('location') ?? '');
    expect(`${callback.protocol}//${callback.host}${callback.pathname}`).toBe(CHROME_REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('st-chrome');
    expect((await exchange(callback.searchParams.get('code') ?? '', verifier, CHROME_REDIRECT_URI)).status).toBe(200);
  });

  it('the built Firefox extension signs in through the redirect Firefox derives from its gecko id', async () => {
    const res = await consent(FIREFOX_REDIRECT, user, 'ja');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain(`form-action 'self' ${new URL(FIREFOX_REDIRECT).origin}`);
    const page = await res.text();
    expect(page).toContain('<dd id="consent-browser">Firefox</dd>');
    expect(page).toContain(`<code id="consent-extension-id">${FIREFOX_GECKO_ID}</code>`);
    expect(page).toContain('Keyward for Firefox');

    const { verifier, challenge } = pkcePair();
    const allowed = await allow(FIREFOX_REDIRECT, challenge, 'st-ff');
    expect(allowed.status).toBe(302);
    const callback = new URL(allowed.headers.get('location') ?? '');
    expect(`${callback.origin}/`).toBe(FIREFOX_REDIRECT);
    expect(callback.searchParams.get('state')).toBe('st-ff');
    const tokens = await exchange(callback.searchParams.get('code') ?? '', verifier, FIREFOX_REDIRECT, 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0');
    expect(tokens.status).toBe(200);
    expect((await call(h.app, 'GET', '/api/v1/me', String(tokens.body.access_token))).status).toBe(200);
  });

  it('a code issued for one extension cannot be redeemed with another listed extension’s redirect', async () => {
    const { verifier, challenge } = pkcePair();
    const code = new URL((await allow(CHROME_REDIRECT_URI, challenge)).headers.get('location') ?? '').searchParams.get('code') ?? '';
    const other = await exchange(code, verifier, FIREFOX_REDIRECT);
    expect(other.status).toBe(400);
    expect(other.body.error?.code).toBe('invalid_grant');
  });

  it('only admins change the list, with a CSRF token, and bad input names the field', async () => {
    const helpdesk = await portalLogin(h, h.people.helpdesk.id);
    expect((await postForm(h.app, '/admin/clients', helpdesk, { browser: 'chrome', extensionId: ROGUE_ID, name: 'Rogue' })).status).toBe(403);
    expect((await postForm(h.app, '/admin/clients', { ...admin, csrf: 'wrong-token-wrong-token' }, { browser: 'chrome', extensionId: ROGUE_ID, name: 'Rogue' })).status).toBe(403);
    for (const [fields, field] of [
      [{ browser: 'chrome', extensionId: 'not-an-id', name: 'x' }, 'extensionId'],
      [{ browser: 'firefox', extensionId: 'no at sign', name: 'x' }, 'extensionId'],
      [{ browser: 'safari', extensionId: ROGUE_ID, name: 'x' }, 'browser'],
      [{ browser: 'chrome', extensionId: ROGUE_ID, name: '' }, 'name'],
    ] as const) {
      const res = await postForm(h.app, '/admin/clients', admin, fields);
      expect(res.status, field).toBe(400);
    }
    expect((await consent(ROGUE_CHROME, user)).status).toBe(400);
    const policy = await (await getPage('/admin/policy', admin)).text();
    expect(policy).toContain(`data-client="${CHROME_EXTENSION_ID}"`);
    expect(policy).toContain(`data-client="${FIREFOX_GECKO_ID}"`);
    expect(policy).not.toContain(`data-client="${ROGUE_ID}"`);
  });

  it('an admin adds an extension id: it is accepted and named; removed: refused again and its browsers signed out', async () => {
    const added = await postForm(h.app, '/admin/clients', admin, { browser: 'edge', extensionId: ROGUE_ID, name: 'Keyward beta for Edge' });
    expect(added.status).toBe(303);
    expect(await (await getPage('/admin/policy?clients=added', admin)).text()).toContain('The extension was added to the list.');
    expect((await postForm(h.app, '/admin/clients', admin, { browser: 'chrome', extensionId: ROGUE_ID, name: 'Again' })).status).toBe(409);

    const page = await consent(ROGUE_CHROME, user);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('The Edge extension “Keyward beta for Edge” wants to connect to your account.');
    const beta = await signIn(ROGUE_CHROME);
    expect((await call(h.app, 'GET', '/api/v1/me', beta.access_token)).status).toBe(200);
    const builtIn = await signIn(CHROME_REDIRECT_URI);

    const removed = await postForm(h.app, '/admin/clients/remove', admin, { extensionId: ROGUE_ID });
    expect(removed.status).toBe(303);
    expect((await consent(ROGUE_CHROME, user)).status).toBe(400);
    expect((await call(h.app, 'GET', '/api/v1/me', beta.access_token)).status).toBe(401);
    expect((await call(h.app, 'POST', '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: beta.refresh_token })).status).toBe(400);
    // Browsers of the other extensions stay connected.
    expect((await call(h.app, 'GET', '/api/v1/me', builtIn.access_token)).status).toBe(200);
    expect(await (await getPage('/browsers', user)).text()).not.toContain('Keyward beta for Edge');
    expect((await postForm(h.app, '/admin/clients/remove', admin, { extensionId: ROGUE_ID })).status).toBe(404);

    // Listing the id again does not bring the signed-out browser back.
    expect((await postForm(h.app, '/admin/clients', admin, { browser: 'edge', extensionId: ROGUE_ID, name: 'Keyward beta for Edge' })).status).toBe(303);
    expect((await call(h.app, 'GET', '/api/v1/me', beta.access_token)).status).toBe(401);
    expect((await postForm(h.app, '/admin/clients/remove', admin, { extensionId: ROGUE_ID })).status).toBe(303);

    const events = await h.deps.db.selectFrom('audit_events').select(['actor_id', 'detail']).where('action', '=', 'policy.clients_changed').orderBy('seq').execute();
    expect(events.map((e) => JSON.parse(e.detail) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ change: 'added', extensionId: ROGUE_ID, browser: 'edge', redirectUri: ROGUE_CHROME }),
      expect.objectContaining({ change: 'removed', extensionId: ROGUE_ID, grantsRevoked: 1 }),
      expect.objectContaining({ change: 'added', extensionId: ROGUE_ID }),
      expect.objectContaining({ change: 'removed', extensionId: ROGUE_ID, grantsRevoked: 0 }),
    ]);
    expect(events.every((e) => e.actor_id === h.people.admin.id)).toBe(true);
  });

  it('an admin lists a Firefox add-on id: its redirect is the one Firefox derives, and it can sign in', async () => {
    const geckoId = 'keyward-beta@keyward.example';
    expect((await postForm(h.app, '/admin/clients', admin, { browser: 'firefox', extensionId: geckoId, name: 'Keyward beta for Firefox' })).status).toBe(303);
    const row = await h.deps.db.selectFrom('oauth_clients').selectAll().where('id', '=', geckoId).executeTakeFirstOrThrow();
    expect(row.redirect_uri).toBe(firefoxRedirectUri(geckoId));
    await signIn(row.redirect_uri);
    expect((await postForm(h.app, '/admin/clients/remove', admin, { extensionId: geckoId })).status).toBe(303);
  });

  it('Connected browsers name the extension, browser and OS, and "last used" moves when the access token is used, once a minute at most', async () => {
    const other = await portalLogin(h, h.people.other.id);
    const { verifier, challenge } = pkcePair();
    const allowed = await postForm(h.app, '/oauth/authorize', other, { ...authorizeFields(CHROME_REDIRECT_URI, challenge), decision: 'allow' });
    const code = new URL(allowed.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await exchange(code, verifier, CHROME_REDIRECT_URI, WINDOWS_CHROME);
    const access = String(tokens.body.access_token);

    async function row(): Promise<{ html: string; lastUsed: string; connected: string }> {
      const text = await (await getPage('/browsers', other)).text();
      // The harness signed this person in once already (no user agent); this is the Windows one.
      const rows = [...text.matchAll(/<tr data-browser="[^"]+">([\s\S]*?)<\/tr>/g)].map((m) => m[1]).filter((r) => r.includes('Windows'));
      expect(rows).toHaveLength(1);
      const time = (cell: string) => new RegExp(`data-cell="${cell}"><time datetime="([^"]+)"`).exec(rows[0])?.[1] ?? '';
      const headers = [...text.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1].trim());
      expect(headers).toEqual(['Extension', 'Browser', 'Connected', 'Last used', 'Actions']);
      return { html: rows[0], lastUsed: time('last-used'), connected: time('connected') };
    }

    const first = await row();
    expect(first.html).toContain('Keyward for Chrome');
    expect(first.html).toContain(CHROME_EXTENSION_ID);
    expect(first.html).toContain('<td data-cell="browser">Chrome on Windows</td>');

    h.clock.advance(2 * 60_000);
    const usedAt = h.clock.now().getTime();
    expect((await call(h.app, 'GET', '/api/v1/devices', access)).status).toBe(200);
    const second = await row();
    expect(Date.parse(second.lastUsed)).toBeGreaterThanOrEqual(usedAt);
    expect(second.connected).toBe(first.connected);

    // Within the minute, more requests write nothing.
    h.clock.advance(20_000);
    expect((await call(h.app, 'GET', '/api/v1/devices', access)).status).toBe(200);
    expect((await row()).lastUsed).toBe(second.lastUsed);

    h.clock.advance(60_000);
    expect((await call(h.app, 'GET', '/api/v1/me', access)).status).toBe(200);
    expect(Date.parse((await row()).lastUsed)).toBeGreaterThan(Date.parse(second.lastUsed));
  });

  it('answers CORS only for allow-listed Chrome extension origins (and Firefox extension pages, whose UUID is random)', async () => {
    const preflight = (origin: string) => h.app.request('/api/v1/me', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    expect((await preflight(`chrome-extension://${CHROME_EXTENSION_ID}`)).headers.get('access-control-allow-origin')).toBe(`chrome-extension://${CHROME_EXTENSION_ID}`);
    expect((await preflight(`chrome-extension://${ROGUE_ID}`)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('moz-extension://4b1f2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d')).headers.get('access-control-allow-origin')).toBe('moz-extension://4b1f2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const rogueGet = await h.app.request('/api/v1/me', { headers: { origin: `chrome-extension://${ROGUE_ID}`, authorization: `Bearer ${h.people.owner.token}` } });
    expect(rogueGet.headers.get('access-control-allow-origin')).toBeNull();
  });
});
