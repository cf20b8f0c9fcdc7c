/**
 * Until a person picks a language, the portal follows the browser (Accept-Language) after
 * sign-in too; once picked it sticks, and the API reports it to the extension (null before).
 * New accounts — seeded or created by an admin — start with no choice made, whatever the
 * admin's own language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, portalLogin, postForm, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('language on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function pageLang(cookie: string, acceptLanguage: string): Promise<string | undefined> {
    const res = await h.app.request('/devices', { headers: { cookie, 'accept-language': acceptLanguage } });
    return /<html lang="(\w+)">/.exec(await res.text())?.[1];
  }

  it('a signed-in person who has not picked a language gets the browser\'s; a pick sticks over the browser', async () => {
    const owner = await portalLogin(h, h.people.owner.id);
    expect(await pageLang(owner.cookie, 'sv-SE,sv;q=0.9,en;q=0.5')).toBe('sv');
    expect(await pageLang(owner.cookie, 'ja')).toBe('ja');
    expect((await call(h.app, 'GET', '/api/v1/me', h.people.owner.token)).body).toMatchObject({ user: { locale: null } });

    const picked = await postForm(h.app, '/locale', owner, { locale: 'da', next: '/devices' });
    expect(picked.status).toBe(303);
    expect(await pageLang(owner.cookie, 'sv-SE,sv;q=0.9')).toBe('da');
    expect((await call(h.app, 'GET', '/api/v1/me', h.people.owner.token)).body).toMatchObject({ user: { locale: 'da' } });
  });

  it('an account an admin creates starts with no language chosen, not the admin\'s', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    await postForm(h.app, '/locale', admin, { locale: 'nl', next: '/admin/users' });
    const created = await postForm(h.app, '/admin/users', admin, { email: 'newcomer@test.example', name: 'Newcomer', password: 'a-long-password-1', role: 'user' });
    expect(created.status).toBeLessThan(400);
    const row = await h.deps.db.selectFrom('users').select(['id', 'locale']).where('email', '=', 'newcomer@test.example').executeTakeFirstOrThrow();
    expect(row.locale).toBe('');
    const newcomer = await portalLogin(h, row.id);
    expect(await pageLang(newcomer.cookie, 'sv')).toBe('sv');
  });

  it('a language picked in the extension (PUT /api/v1/me/locale) is the portal\'s too; null goes back to the browser\'s', async () => {
    const owner = await portalLogin(h, h.people.owner.id);
    const picked = await call(h.app, 'PUT', '/api/v1/me/locale', h.people.owner.token, { locale: 'sv' });
    expect(picked).toMatchObject({ status: 200, body: { locale: 'sv' } });
    expect(await pageLang(owner.cookie, 'ja')).toBe('sv');
    expect((await call(h.app, 'GET', '/api/v1/me', h.people.owner.token)).body).toMatchObject({ user: { locale: 'sv' } });

    const cleared = await call(h.app, 'PUT', '/api/v1/me/locale', h.people.owner.token, { locale: null });
    expect(cleared).toMatchObject({ status: 200, body: { locale: null } });
    expect(await pageLang(owner.cookie, 'ja')).toBe('ja');
    expect((await call(h.app, 'GET', '/api/v1/me', h.people.owner.token)).body).toMatchObject({ user: { locale: null } });
  });

  it('PUT /api/v1/me/locale refuses a locale we do not have and a caller without a token', async () => {
    const unknown = await call(h.app, 'PUT', '/api/v1/me/locale', h.people.helpdesk.token, { locale: 'fr' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: { code: 'invalid_input' } });
    expect((await call(h.app, 'PUT', '/api/v1/me/locale', null, { locale: 'sv' })).status).toBe(401);
    expect((await call(h.app, 'GET', '/api/v1/me', h.people.helpdesk.token)).body).toMatchObject({ user: { locale: null } });
  });
});
