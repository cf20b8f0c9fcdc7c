/**
 * Portal cookies: every sign-in gets a fresh session id and the session that was in the
 * browser before stops working (no fixation); cookies are HttpOnly SameSite=Lax, and `Secure`
 * whenever the portal is reached over https (directly, or behind a TLS-terminating proxy that
 * says so with `X-Forwarded-Proto`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

describe('portal cookies', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('sqlite');
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Signs in through the real form; returns every Set-Cookie line of the answer and the new session cookie. */
  async function signIn(origin: string, headers: Record<string, string> = {}, cookie = ''): Promise<{ lines: string[]; session: string }> {
    // Signed in already, the sign-in page sends people on; the form then carries the session's token.
    const page = await h.app.request(`${origin}${cookie ? '/devices' : '/login'}`, { headers: { ...headers, cookie } });
    const pre = page.headers.getSetCookie().map((l) => l.split(';')[0]);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const res = await h.app.request(`${origin}/login`, {
      method: 'POST',
      headers: { ...headers, cookie: [cookie, ...pre].filter(Boolean).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email: h.people.owner.email, password: `${h.people.owner.email}-pass`, next: '/devices' }).toString(),
    });
    expect(res.status).toBe(303);
    const lines = [...page.headers.getSetCookie(), ...res.headers.getSetCookie()];
    const session = res.headers.getSetCookie().find((l) => l.startsWith('kw_session=')) ?? '';
    return { lines, session: session.split(';')[0] };
  }

  it('over plain http on 127.0.0.1 the cookies are HttpOnly and SameSite=Lax', async () => {
    const { lines } = await signIn('http://127.0.0.1:8787');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(/HttpOnly/);
      expect(line).toMatch(/SameSite=Lax/);
    }
  });

  it.each([
    ['served over https', 'https://keyward.example', {}],
    ['behind a TLS proxy', 'http://10.0.0.5:8787', { 'x-forwarded-proto': 'https' }],
  ])('%s every cookie is Secure', async (_label, origin, headers) => {
    const { lines } = await signIn(origin, headers);
    expect(lines.filter((l) => l.startsWith('kw_session=') || l.startsWith('kw_csrf='))).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/;\s*Secure/i);
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
