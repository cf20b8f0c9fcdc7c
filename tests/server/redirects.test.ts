/**
 * No open redirects: every `next` the portal follows (sign-in, the sign-in page when already
 * signed in, the language switch) stays on the portal's own origin, including the tricks a
 * browser's URL parser would turn into another site (tab/newline stripping, backslashes), and
 * a `next` with a line break is a plain redirect home, never a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, postForm, type Harness } from './harness.ts';

const ORIGIN = 'http://portal.test';

const HOSTILE_NEXT = [
  '/\t/evil.example/',
  '/\n/evil.example/',
  '/\r\n/evil.example/',
  '/\\evil.example/',
  '/\t\\evil.example/',
  '//evil.example/',
  'https://evil.example/',
  '/a\r\nSet-Cookie: kw_session=x',
];

describe('redirect targets stay on the portal', () => {
  let h: Harness;
  let cookie = '';
  let csrf = '';

  beforeAll(async () => {
    h = await createHarness('sqlite');
    const login = await h.app.request(`${ORIGIN}/login`);
    const preCookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const preCsrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? '';
    const signed = await postForm(h.app, `${ORIGIN}/login`, { cookie: preCookie, csrf: preCsrf }, { email: h.people.owner.email, password: `${h.people.owner.email}-pass`, next: '/devices' });
    expect(signed.status).toBe(303);
    cookie = (signed.headers.get('set-cookie') ?? '').split(';')[0];
    const devices = await h.app.request(`${ORIGIN}/devices`, { headers: { cookie } });
    csrf = /name="_csrf" value="([^"]+)"/.exec(await devices.text())?.[1] ?? '';
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Where a browser would go: Location resolved against the page, as the URL standard does. */
  function landing(res: Response): URL {
    return new URL(res.headers.get('location') ?? '', `${ORIGIN}/login`);
  }

  it.each(HOSTILE_NEXT)('GET /login?next=%j while signed in stays on the portal', async (next) => {
    const res = await h.app.request(`${ORIGIN}/login?next=${encodeURIComponent(next)}`, { headers: { cookie } });
    expect([302, 303]).toContain(res.status);
    expect(landing(res).origin).toBe(ORIGIN);
  });

  it.each(HOSTILE_NEXT)('the language switch with next=%j stays on the portal', async (next) => {
    const res = await postForm(h.app, `${ORIGIN}/locale`, { cookie, csrf }, { locale: 'sv', next });
    expect(res.status).toBe(303);
    expect(landing(res).origin).toBe(ORIGIN);
  });

  it('the sign-in page never carries a hostile next into its form', async () => {
    const res = await h.app.request(`${ORIGIN}/login?next=${encodeURIComponent('/\t/evil.example/')}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('name="next" value="/"');
  });

  it('a same-site next with a query is kept as it is', async () => {
    const next = '/oauth/authorize?response_type=code&state=a%2Fb\\c';
    const res = await h.app.request(`${ORIGIN}/login?next=${encodeURIComponent(next)}`, { headers: { cookie } });
    expect(res.headers.get('location')).toBe(next);
  });
});
