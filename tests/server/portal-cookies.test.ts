/**
 * Portal cookies and HSTS: every sign-in gets a fresh session id and the session that was in
 * the browser before stops working (no fixation); cookies are HttpOnly and SameSite (Lax; the
 * sign-in device cookie Strict), and `Secure` whenever the portal is reached over https —
 * directly, or behind a trusted TLS-terminating proxy that says so with `X-Forwarded-Proto`.
 * The same rule decides `Strict-Transport-Security`, which plain http never gets. Anyone else's
 * `X-Forwarded-Proto` changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

/** What @hono/node-server hands the app: the socket's peer. */
const peer = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });
const TRUSTED_PROXY = peer('10.0.0.5');
const SOMEONE_ELSE = peer('192.0.2.44');

describe('portal cookies', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('sqlite', { trustedProxies: ['10.0.0.0/8'] });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Signs in through the real form; returns every Set-Cookie line of the answer and the new session cookie. */
  async function signIn(origin: string, headers: Record<string, string> = {}, cookie = '', env = peer('127.0.0.1')): Promise<{ lines: string[]; session: string }> {
    // Signed in already, the sign-in page sends people on; the form then carries the session's token.
    const page = await h.app.request(`${origin}${cookie ? '/devices' : '/login'}`, { headers: { ...headers, cookie } }, env);
    const pre = page.headers.getSetCookie().map((l) => l.split(';')[0]);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const res = await h.app.request(`${origin}/login`, {
      method: 'POST',
      headers: { ...headers, cookie: [cookie, ...pre].filter(Boolean).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email: h.people.owner.email, password: `${h.people.owner.email}-pass`, next: '/devices' }).toString(),
    }, env);
    expect(res.status).toBe(303);
    const lines = [...page.headers.getSetCookie(), ...res.headers.getSetCookie()];
    const session = res.headers.getSetCookie().find((l) => l.startsWith('kw_session=')) ?? '';
    return { lines, session: session.split(';')[0] };
  }

  it('over plain http on 127.0.0.1 the cookies are HttpOnly and SameSite, none of them Secure', async () => {
    const { lines } = await signIn('http://127.0.0.1:8787');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(/HttpOnly/);
      expect(line).toMatch(line.startsWith('kw_device=') ? /SameSite=Strict/ : /SameSite=Lax/);
      expect(line).not.toMatch(/;\s*Secure/i);
    }
  });

  it.each([
    ['served over https', 'https://keyward.example', {}, peer('203.0.113.8')],
    ['behind a trusted TLS proxy', 'http://10.0.0.1:8787', { 'x-forwarded-proto': 'https' }, TRUSTED_PROXY],
  ])('%s every cookie is Secure', async (_label, origin, headers, env) => {
    const { lines } = await signIn(origin, headers, '', env);
    expect(lines.filter((l) => l.startsWith('kw_session=') || l.startsWith('kw_csrf=') || l.startsWith('kw_device='))).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/;\s*Secure/i);
  });

  it("an X-Forwarded-Proto from a peer that is not a trusted proxy makes no cookie Secure", async () => {
    const { lines } = await signIn('http://10.0.0.1:8787', { 'x-forwarded-proto': 'https' }, '', SOMEONE_ELSE);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toMatch(/;\s*Secure/i);
  });

  it.each([
    ['served over https', 'https://keyward.example/login', {}, peer('203.0.113.8'), true],
    ['behind a trusted TLS proxy', 'http://10.0.0.1:8787/login', { 'x-forwarded-proto': 'https' }, TRUSTED_PROXY, true],
    ['over plain http', 'http://127.0.0.1:8787/login', {}, peer('127.0.0.1'), false],
    ['over http with an X-Forwarded-Proto from someone else', 'http://10.0.0.1:8787/login', { 'x-forwarded-proto': 'https' }, SOMEONE_ELSE, false],
    ['a trusted proxy that says http', 'http://10.0.0.1:8787/login', { 'x-forwarded-proto': 'http' }, TRUSTED_PROXY, false],
  ])('HSTS %s: %s', async (_label, url, headers, env, expected) => {
    for (const res of [await h.app.request(url, { headers }, env), await h.app.request(url.replace('/login', '/no-such-page'), { headers }, env)]) {
      expect(res.headers.get('strict-transport-security')).toBe(expected ? 'max-age=31536000; includeSubDomains' : null);
    }
  });

  it('signing in again gives a new session id and ends the one the browser had', async () => {
    const first = await signIn('http://127.0.0.1:8787');
    const second = await signIn('http://127.0.0.1:8787', {}, first.session);
    expect(second.session).not.toBe(first.session);
    expect((await h.app.request('http://127.0.0.1:8787/devices', { headers: { cookie: second.session } })).status).toBe(200);
    const old = await h.app.request('http://127.0.0.1:8787/devices', { headers: { cookie: first.session } });
    expect(old.status).toBe(303);
    expect(old.headers.get('location')).toMatch(/^\/login/);
  });
});
