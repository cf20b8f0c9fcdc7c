/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider, started here on
 * 127.0.0.1) with Keyward served over real HTTP, on SQLite and PostgreSQL: the sign-in page
 * offers "Sign in with <provider>" only once it is configured; a first sign-in creates the
 * account from the claims with the role its groups map to; a group removed at the provider
 * demotes at the next sign-in; people are matched by `sub`, never by email alone (an email
 * already in use is connected only by its owner); a wrong `state` or `nonce`, an expired ID
 * token and one altered after signing are refused with a localized page and no session; a
 * disabled account cannot sign in; the extension's sign-in rides on the SSO session and stops
 * refreshing after the maximum session age; private_key_jwt works; local passwords can be
 * turned off except for the break-glass admin; the provider going down is a clear 502 page.
 */
import { generateKeyPairSync } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_CLIENT_ID } from '../../server/auth/oauth.ts';
import { call, createHarness, pkcePair, portalLogin, postForm, REDIRECT_URI, tokensFor, type FormCredentials, type Harness } from './harness.ts';
import { startTestProvider, type TestProvider } from './oidc-provider.ts';
import { WebBrowser } from './web-browser.ts';

const SECRET = 'a-client-secret-only-the-provider-and-keyward-know';
const MAX_SESSION_HOURS = 8;

function listen(server: ServerType): Promise<number> {
  return new Promise((resolve) => {
    server.once('listening', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

describe.each(['sqlite', 'postgres'] as const)('single sign-on with a real OpenID Connect provider (%s)', (kind) => {
  let h: Harness;
  let server: ServerType;
  let keyward: string;
  let provider: TestProvider;
  let admin: FormCredentials;
  const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  beforeAll(async () => {
    h = await createHarness(kind);
    server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
    keyward = `http://127.0.0.1:${await listen(server)}`;
    const redirect = `${keyward}/sso/callback`;
    provider = await startTestProvider({
      idTokenSeconds: 60,
      clients: [
        { client_id: 'keyward', client_secret: SECRET, redirect_uris: [redirect], token_endpoint_auth_method: 'client_secret_basic' },
        {
          client_id: 'keyward-jwt', redirect_uris: [redirect], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256',
          jwks: { keys: [{ ...clientKey.publicKey.export({ format: 'jwk' }), kid: 'keyward-1', use: 'sig', alg: 'ES256' }] },
        },
      ],
      people: [
        { sub: 'alice-0001', email: 'alice@example.org', name: 'Alice Andersson', groups: ['staff', 'keyward-admins'] },
        { sub: 'bob-0002', email: 'bob@example.org', name: 'Bob Berg', groups: ['staff'] },
        { sub: 'mallory-0003', email: 'owner@test.example', name: 'Mallory', groups: ['keyward-admins'] },
        { sub: 'owner-0004', email: 'owner.sso@example.org', name: 'Owner via SSO', groups: [] },
        { sub: 'twin-0005', email: 'twin@example.org', name: 'Twin', groups: [] },
      ],
    });
    admin = await portalLogin(h, h.people.admin.id);
  });
  afterAll(async () => {
    await provider?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h?.close();
  });

  function settings(change: Record<string, string> = {}): Record<string, string> {
    return {
      enabled: '1', name: 'Contoso ID', issuer: provider.issuer, clientId: 'keyward', clientAuth: 'client_secret_basic', clientSecret: SECRET,
      redirectUri: `${keyward}/sso/callback`, scopes: 'openid email profile groups', roleClaim: 'groups', adminValues: 'keyward-admins',
      helpdeskValues: 'it-helpdesk', maxSessionHours: String(MAX_SESSION_HOURS), localPasswords: '1', breakGlass: '', ...change,
    };
  }

  async function configure(change: Record<string, string> = {}): Promise<void> {
    const res = await postForm(h.app, '/admin/sso', admin, settings(change));
    expect([res.status, res.headers.get('location')]).toEqual([303, '/admin/policy?sso=saved#sso']);
  }

  /** A new browser signs in as `sub` through the provider; returns the last page and the hops. */
  async function signIn(sub: string, b = new WebBrowser(), next = '/devices') {
    provider.signInAs(sub);
    const result = await b.follow(`${keyward}/sso/start?next=${encodeURIComponent(next)}`);
    return { ...result, browser: b };
  }

  const userBySub = (sub: string) => h.deps.db.selectFrom('users').selectAll().where('oidc_subject', '=', sub).executeTakeFirst();
  const sessionsOf = (userId: string) => h.deps.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).execute();
  const events = (action: string) => h.deps.db.selectFrom('audit_events').select(['detail', 'actor_kind']).where('action', '=', action).orderBy('seq').execute();

  it('without a provider the sign-in page offers passwords only, and /sso/start says single sign-on is not set up', async () => {
    const login = await new WebBrowser().request(`${keyward}/login`);
    expect(login.text).not.toContain('id="sso-sign-in"');
    const start = await new WebBrowser().request(`${keyward}/sso/start`);
    expect(start.res.status).toBe(404);
    expect(start.text).toContain('data-reason="not_configured"');
  });

  it('once configured, the sign-in page offers "Sign in with Contoso ID"; the secret is stored sealed and never shown again', async () => {
    await configure();
    const login = await new WebBrowser().request(`${keyward}/login?next=%2Fbrowsers`);
    expect(login.text).toContain('Sign in with Contoso ID');
    expect(login.text).toContain('href="/sso/start?next=%2Fbrowsers"');
    const row = await h.deps.db.selectFrom('sso_config').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(SECRET);
    const policy = await h.app.request('/admin/policy', { headers: { cookie: admin.cookie } });
    const text = await policy.text();
    expect(text).toContain('id="sso-form"');
    expect(text).not.toContain(SECRET);
    const [saved] = await events('sso.configured');
    expect(saved.detail).not.toContain(SECRET);
    expect(JSON.parse(saved.detail)).toMatchObject({ issuer: provider.issuer, clientId: 'keyward', credentialChanged: true });
  });

  it('a first sign-in creates the account from the claims, with the role its groups map to, and starts an SSO session', async () => {
    const { res, url, text, hops } = await signIn('alice-0001');
    expect(hops.map((hop) => new URL(hop.url).pathname)).toContain('/sso/callback');
    expect(res.status).toBe(200);
    expect(new URL(url).pathname).toBe('/devices');
    expect(text).toContain('Signed in as Alice Andersson');
    const alice = await userBySub('alice-0001');
    expect(alice).toMatchObject({ email: 'alice@example.org', name: 'Alice Andersson', role: 'admin', password_hash: '', oidc_issuer: provider.issuer, locale: '' });
    expect((await sessionsOf(alice?.id ?? '')).map((s) => s.auth_method)).toEqual(['sso']);
    const [created] = await events('user.created');
    expect(created.actor_kind).toBe('system');
    expect(JSON.parse(created.detail)).toMatchObject({ email: 'alice@example.org', role: 'admin', source: 'sso' });
  });

  it('the role is re-read at every sign-in: a group removed at the provider demotes, a helpdesk group promotes', async () => {
    const alice = provider.people.get('alice-0001');
    if (!alice) throw new Error('no alice');
    alice.groups = ['staff'];
    await signIn('alice-0001');
    expect((await userBySub('alice-0001'))?.role).toBe('user');
    alice.groups = ['it-helpdesk'];
    const { url } = await signIn('alice-0001', new WebBrowser(), '/');
    expect((await userBySub('alice-0001'))?.role).toBe('helpdesk');
    expect(new URL(url).pathname).toBe('/admin/devices');
    const changes = (await events('user.role_changed')).map((e) => JSON.parse(e.detail) as Record<string, unknown>);
    expect(changes.map((d) => [d.from, d.to, d.source])).toEqual([['admin', 'user', 'sso'], ['user', 'helpdesk', 'sso']]);
  });

  it('people are matched by sub, never by email alone: an email already in use is refused until its owner connects the accounts', async () => {
    const users = await h.deps.db.selectFrom('users').select('id').execute();
    const refused = await signIn('mallory-0003');
    expect(refused.res.status).toBe(409);
    expect(refused.text).toContain('data-reason="email_taken"');
    expect(refused.text).toContain('owner@test.example');
    expect(await h.deps.db.selectFrom('users').select('id').execute()).toHaveLength(users.length);
    expect((await h.deps.db.selectFrom('users').selectAll().where('email', '=', 'owner@test.example').executeTakeFirstOrThrow()).oidc_subject).toBeNull();
    expect(refused.browser.cookie(new URL(keyward).host, 'kw_session')).toBeUndefined();

    // The owner signs in with their password and connects their own provider account.
    const b = new WebBrowser();
    const login = await b.request(`${keyward}/login`);
    await b.request(`${keyward}/login`, { form: { _csrf: WebBrowser.csrfOf(login.text), email: 'owner@test.example', password: 'owner@test.example-pass', next: '/browsers' } });
    const page = await b.request(`${keyward}/browsers`);
    expect(page.text).toContain('id="sso-link"');
    expect(page.res.headers.get('content-security-policy')).toContain(`form-action 'self' ${provider.issuer}`);
    provider.signInAs('owner-0004');
    const linked = await b.follow(`${keyward}/sso/link`, { form: { _csrf: WebBrowser.csrfOf(page.text) } });
    expect(linked.res.status).toBe(200);
    expect(linked.text).toContain('Your organisation account is connected');
    const owner = await userBySub('owner-0004');
    expect(owner?.id).toBe(h.people.owner.id);
    // The next SSO sign-in is the same account, with the provider's name and email.
    await signIn('owner-0004');
    expect(await userBySub('owner-0004')).toMatchObject({ id: h.people.owner.id, email: 'owner.sso@example.org', name: 'Owner via SSO' });
    expect(await events('user.sso_linked')).toHaveLength(1);
  });

  it('a first sign-in in two tabs at once creates one account, with no language chosen: pages follow the browser', async () => {
    const tabs = [new WebBrowser(), new WebBrowser()];
    for (const tab of tabs) tab.acceptLanguage = 'ja';
    provider.signInAs('twin-0005');
    const atCallback = await Promise.all(tabs.map((b) => b.follow(`${keyward}/sso/start`, { stopAt: (u) => u.pathname === '/sso/callback' })));
    const answers = await Promise.all(tabs.map((b, i) => b.follow(atCallback[i].stoppedAt ?? '')));
    expect(answers.map((a) => a.res.status)).toEqual([200, 200]);
    expect(await h.deps.db.selectFrom('users').select('locale').where('oidc_subject', '=', 'twin-0005').execute()).toEqual([{ locale: '' }]);
    expect(answers.map((a) => /<html lang="ja"/.test(a.text))).toEqual([true, true]);
  });

  it('a wrong state is refused (400, no session), and the sign-in cannot be retried with the right one', async () => {
    const b = new WebBrowser();
    provider.signInAs('bob-0002');
    const { stoppedAt } = await b.follow(`${keyward}/sso/start`, { stopAt: (u) => u.pathname === '/sso/callback' });
    const callback = new URL(stoppedAt ?? '');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state-this-browser-started-with');
    const refused = await b.request(forged.href);
    expect(refused.res.status).toBe(400);
    expect(refused.text).toContain('data-reason="state"');
    expect(refused.text).toContain('failed a security check');
    expect(b.cookie(new URL(keyward).host, 'kw_session')).toBeUndefined();
    const again = await b.request(callback.href);
    expect(again.res.status).toBe(400);
    expect(again.text).toContain('data-reason="login_expired"');
    expect(await userBySub('bob-0002')).toBeUndefined();
  });

  it('an answer arriving in a browser that did not start the sign-in is refused', async () => {
    provider.signInAs('bob-0002');
    const { stoppedAt } = await new WebBrowser().follow(`${keyward}/sso/start`, { stopAt: (u) => u.pathname === '/sso/callback' });
    const elsewhere = await new WebBrowser().request(stoppedAt ?? '');
    expect(elsewhere.res.status).toBe(400);
    expect(elsewhere.text).toContain('data-reason="login_expired"');
  });

  it('a wrong nonce is refused, in the browser’s language', async () => {
    const b = new WebBrowser();
    b.acceptLanguage = 'nl';
    provider.signInAs('bob-0002');
    const { stoppedAt } = await b.follow(`${keyward}/sso/start`, { stopAt: (u) => u.origin === provider.issuer && u.pathname === '/auth' });
    const authorize = new URL(stoppedAt ?? '');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    authorize.searchParams.set('nonce', 'a-nonce-keyward-never-issued');
    const refused = await b.follow(authorize.href);
    expect(refused.res.status).toBe(400);
    expect(refused.text).toContain('data-reason="nonce"');
    expect(refused.text).toContain('beveiligingscontrole');
    expect(await userBySub('bob-0002')).toBeUndefined();
  });

  it('an expired ID token is refused (by the service clock)', async () => {
    const b = new WebBrowser();
    provider.signInAs('bob-0002');
    const { stoppedAt } = await b.follow(`${keyward}/sso/start`, { stopAt: (u) => u.pathname === '/sso/callback' });
    // The provider issues ID tokens valid for 60 s; five minutes later, by Keyward's clock, it has expired.
    h.clock.advance(5 * 60_000);
    try {
      const refused = await b.request(stoppedAt ?? '');
      expect(refused.res.status).toBe(400);
      expect(refused.text).toContain('data-reason="expired"');
    } finally {
      h.clock.advance(-5 * 60_000);
    }
    expect(await userBySub('bob-0002')).toBeUndefined();
  });

  it('an ID token altered after the provider signed it is refused: its signature does not verify', async () => {
    provider.tamper = 'sub';
    try {
      const refused = await signIn('bob-0002');
      expect(refused.res.status).toBe(400);
      expect(refused.text).toContain('data-reason="signature"');
      expect(await h.deps.db.selectFrom('users').select('id').where('oidc_subject', '=', 'someone-else').execute()).toEqual([]);
    } finally {
      provider.tamper = 'none';
    }
  });

  it('the extension signs in on the SSO session; its refresh stops once the SSO sign-in is older than the maximum session age', async () => {
    const { browser: b } = await signIn('bob-0002');
    const bob = await userBySub('bob-0002');
    expect(bob?.role).toBe('user');
    const { verifier, challenge } = pkcePair();
    const authorize = `${keyward}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: EXTENSION_CLIENT_ID, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 's' })}`;
    const consent = await b.request(authorize);
    expect(consent.res.status).toBe(200);
    const fields = Object.fromEntries([...consent.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replaceAll('&amp;', '&')]));
    const allowed = await b.request(`${keyward}/oauth/authorize`, { form: { ...fields, decision: 'allow' } });
    const code = new URL(allowed.res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await call(h.app, 'POST', '/oauth/token', null, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: EXTENSION_CLIENT_ID });
    expect(tokens.status).toBe(200);
    expect((await call(h.app, 'GET', '/api/v1/me', String(tokens.body.access_token))).body).toMatchObject({ user: { email: 'bob@example.org' } });
    const refreshed = await call(h.app, 'POST', '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    h.clock.advance(MAX_SESSION_HOURS * 3_600_000 + 60_000);
    try {
      const late = await call(h.app, 'POST', '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token) });
      expect(late.status).toBe(400);
      expect(late.body.error?.code).toBe('invalid_grant');
      const grants = await h.deps.db.selectFrom('oauth_grants').select(['revoked_at', 'auth_method']).where('user_id', '=', bob?.id ?? '').execute();
      expect(grants.map((g) => [g.auth_method, g.revoked_at !== null])).toEqual([['sso', true]]);
      // The portal session ended with it: an SSO session is never longer than the maximum age.
      expect((await b.request(`${keyward}/devices`)).res.status).toBe(303);
    } finally {
      h.clock.advance(-(MAX_SESSION_HOURS * 3_600_000 + 60_000));
    }
  });

  it('a disabled account cannot sign in with the provider, and its extension stops refreshing', async () => {
    const bob = await userBySub('bob-0002');
    const tokens = await tokensFor(h.app, h.deps, bob?.id ?? '');
    const disabled = await postForm(h.app, `/admin/users/${bob?.id}/disable`, admin, {});
    expect(disabled.status).toBe(303);
    const refused = await signIn('bob-0002');
    expect(refused.res.status).toBe(403);
    expect(refused.text).toContain('data-reason="account_disabled"');
    expect(refused.text).toContain('This account is disabled');
    expect(await sessionsOf(bob?.id ?? '')).toEqual([]);
    expect((await call(h.app, 'POST', '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status).toBe(400);
    expect((await postForm(h.app, `/admin/users/${bob?.id}/enable`, admin, {})).status).toBe(303);
    expect((await signIn('bob-0002')).res.status).toBe(200);
  });

  it('Keyward can authenticate to the provider with private_key_jwt and publishes the public key', async () => {
    const pem = clientKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await configure({ clientId: 'keyward-jwt', clientAuth: 'private_key_jwt', clientSecret: '', privateKey: pem, keyId: 'keyward-1' });
    const jwks = (await (await fetch(`${keyward}/sso/jwks.json`)).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'keyward-1', alg: 'ES256', x: clientKey.publicKey.export({ format: 'jwk' }).x });
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    const { res, text } = await signIn('alice-0001');
    expect(res.status).toBe(200);
    expect(text).toContain('Signed in as Alice Andersson');
    await configure();
  });

  it('local passwords can be turned off for everyone but the break-glass admin', async () => {
    const bad = await postForm(h.app, '/admin/sso', admin, settings({ localPasswords: '' }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Break-glass admin');
    await configure({ localPasswords: '', breakGlass: 'admin@test.example' });
    const signInWithPassword = async (email: string) => {
      const b = new WebBrowser();
      const login = await b.request(`${keyward}/login`);
      expect(login.text).toContain('only for the emergency admin account');
      return b.request(`${keyward}/login`, { form: { _csrf: WebBrowser.csrfOf(login.text), email, password: `${email}-pass`, next: '/devices' } });
    };
    const refused = await signInWithPassword('other@test.example');
    expect(refused.res.status).toBe(403);
    expect(refused.text).toContain('Password sign-in is turned off for your organisation. Choose Sign in with Contoso ID.');
    expect((await signInWithPassword('admin@test.example')).res.status).toBe(303);
    // The break-glass admin cannot be disabled, demoted or deleted while it is the only way in without the provider.
    const alice = provider.people.get('alice-0001');
    if (!alice) throw new Error('no alice');
    alice.groups = ['keyward-admins'];
    const { browser } = await signIn('alice-0001');
    const users = await browser.request(`${keyward}/admin/users`);
    expect(users.res.status).toBe(200);
    const csrf = WebBrowser.csrfOf(users.text);
    for (const [action, fields] of [['disable', {}], ['delete', {}], ['role', { role: 'user' }]] as const) {
      const guarded = await browser.request(`${keyward}/admin/users/${h.people.admin.id}/${action}`, { form: { _csrf: csrf, ...fields } });
      expect([action, guarded.res.status]).toEqual([action, 409]);
      expect(guarded.text).toContain('This is the break-glass admin');
    }
    await configure();
    expect((await browser.request(`${keyward}/admin/users/${h.people.admin.id}/disable`, { form: { _csrf: csrf } })).res.status).toBe(303);
    expect((await browser.request(`${keyward}/admin/users/${h.people.admin.id}/enable`, { form: { _csrf: csrf } })).res.status).toBe(303);
    admin = await portalLogin(h, h.people.admin.id);
  });

  it('the provider going down is a clear, localized 502 page — at the code exchange and at discovery', async () => {
    const b = new WebBrowser();
    b.acceptLanguage = 'sv';
    provider.signInAs('alice-0001');
    const { stoppedAt } = await b.follow(`${keyward}/sso/start`, { stopAt: (u) => u.pathname === '/sso/callback' });
    await provider.stop();
    const exchange = await b.request(stoppedAt ?? '');
    expect(exchange.res.status).toBe(502);
    expect(exchange.text).toContain('data-reason="unreachable"');
    expect(exchange.text).toContain('Det går inte att nå Contoso ID just nu');
    // Saved again: the provider is discovered afresh, and it does not answer.
    await configure({ clientSecret: '' });
    const start = await b.request(`${keyward}/sso/start`);
    expect(start.res.status).toBe(502);
    expect(start.text).toContain('data-reason="unreachable"');
    expect(start.res.headers.get('location')).toBeNull();
  });
});
