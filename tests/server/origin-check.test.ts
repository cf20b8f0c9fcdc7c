/**
 * Cross-site state-changing requests are refused before anything happens, even with a valid
 * session, CSRF token or Bearer token: `Origin` of another site, or `Sec-Fetch-Site:
 * cross-site`, gets 403 `cross_origin` with a message in the reader's language, on the portal
 * and on the API. The portal's own forms, the extension's origin on the API and OAuth token
 * endpoint, and programs that send neither header keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_CLIENT_ID, issueAuthorizationCode } from '../../server/auth/oauth.ts';
import { call, createHarness, enrollMac, FV_KEY_1, pkcePair, portalLogin, REDIRECT_URI, type FormCredentials, type Harness } from './harness.ts';

const PORTAL = 'http://keyward.example';
const EXTENSION = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

describe('origin checks', () => {
  let h: Harness;
  let deviceId = '';
  let owner: FormCredentials;

  beforeAll(async () => {
    h = await createHarness('sqlite', { trustedProxies: ['10.0.0.0/8'] });
    const mac = await enrollMac(h, 'personal');
    deviceId = mac.deviceId;
    await mac.upload('disk1s1', FV_KEY_1);
    owner = await portalLogin(h, h.people.owner.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  const rotations = async () => (await h.deps.db.selectFrom('operations').select('id').where('device_id', '=', deviceId).execute()).length;

  /** The device page's Rotate form, sent with the owner's session and CSRF token and the given request headers. */
  function rotateForm(headers: Record<string, string>, env?: object) {
    return h.app.request(`${PORTAL}/devices/${deviceId}/rotate`, {
      method: 'POST',
      headers: { cookie: owner.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ _csrf: owner.csrf }).toString(),
    }, env);
  }

  function rotateApi(headers: Record<string, string>) {
    return call(h.app, 'POST', `/api/v1/devices/${deviceId}/rotate`, h.people.owner.token, {}, headers);
  }

  it.each([
    ['another site’s Origin', { origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling host)', { 'sec-fetch-site': 'same-site', origin: 'http://other.keyward.example' }],
    ['Origin: null from an old browser', { origin: 'null' }],
    ['the own host on another port', { origin: 'http://keyward.example:8080' }],
  ])('a portal form sent with %s is refused, in the reader’s language, and nothing is queued', async (_label, headers) => {
    const before = await rotations();
    const res = await rotateForm({ ...headers, 'accept-language': 'da' });
    expect(res.status).toBe(403);
    const page = await res.text();
    expect(page).toContain('data-status="403"');
    expect(page).toContain('Anmodningen kom fra et andet websted og blev afvist.');
    expect(await rotations()).toBe(before);
  });

  it('an API call with a valid Bearer token from another site is refused with cross_origin, in the reader’s language', async () => {
    const before = await rotations();
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const res = await rotateApi({ ...headers, 'accept-language': 'ja' });
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({ code: 'cross_origin', message: 'このリクエストは別のサイトから送信されたため拒否されました。Keyward を直接開いて、もう一度お試しください。' });
    }
    expect(await rotations()).toBe(before);
  });

  it.each([
    ['the portal’s own Origin', { origin: PORTAL, 'sec-fetch-site': 'same-origin' }, undefined],
    ['Origin: null with Sec-Fetch-Site: same-origin (no-referrer policy)', { origin: 'null', 'sec-fetch-site': 'same-origin' }, undefined],
    ['neither header (an older program)', {}, undefined],
    ['the public host a trusted proxy names', { origin: 'https://keyward.example.org', 'x-forwarded-host': 'keyward.example.org', 'x-forwarded-proto': 'https' }, { incoming: { socket: { remoteAddress: '10.0.0.2' } } }],
  ])('a portal form sent with %s goes through', async (_label, headers, env) => {
    const res = await rotateForm(headers, env);
    expect(res.status).toBe(303);
  });

  it('the public host is believed only from a trusted proxy', async () => {
    const res = await rotateForm({ origin: 'https://keyward.example.org', 'x-forwarded-host': 'keyward.example.org' }, { incoming: { socket: { remoteAddress: '198.51.100.3' } } });
    expect(res.status).toBe(403);
  });

  it('the extension calls the API and the token endpoint from its own origin; reading is never refused', async () => {
    expect((await rotateApi({ origin: EXTENSION })).status).toBe(202);
    expect((await call(h.app, 'GET', `/api/v1/devices/${deviceId}`, h.people.owner.token, undefined, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status).toBe(200);
    const { verifier, challenge } = pkcePair();
    const code = await issueAuthorizationCode(h.deps, h.people.owner.id, { clientId: EXTENSION_CLIENT_ID, redirectUri: REDIRECT_URI, codeChallenge: challenge, state: 's' });
    const token = (origin: string) => h.app.request('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: EXTENSION_CLIENT_ID }).toString(),
    });
    const refused = await token('https://evil.example');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('cross_origin');
    expect((await token(EXTENSION)).status).toBe(200);
  });

  it('an extension origin is no pass for the portal’s forms', async () => {
    expect((await rotateForm({ origin: EXTENSION })).status).toBe(403);
  });
});
