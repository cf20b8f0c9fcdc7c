/**
 * Adding a local account on the admins' users page: who may, what the form accepts (each bad
 * field a 400 and nothing written), how the email is kept, and the form sent twice at once (a
 * double click): one account is created and audited once; the second answer says the email is
 * taken — never a failure page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, portalLogin, postForm, type Harness } from './harness.ts';

const GOOD = { email: 'someone@test.example', name: 'Some One', role: 'user', password: 'a-long-initial-password' };

describe.each(['sqlite', 'postgres'] as const)('adding a user (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const accountsNamed = (email: string) => h.deps.db.selectFrom('users').select(['id', 'email', 'name', 'role']).where('email', '=', email).execute();
  const createdEvents = () => h.deps.db.selectFrom('audit_events').select('seq').where('action', '=', 'user.created').execute();

  it('creates one account and tells the second request it exists', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    const add = () => postForm(h.app, '/admin/users', admin, { email: 'new.person@test.example', name: 'New Person', role: 'helpdesk', password: 'a-long-initial-password' });
    const answers = await Promise.all([add(), add()]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 409]);
    const users = await h.deps.db.selectFrom('users').select('id').where('email', '=', 'new.person@test.example').execute();
    expect(users).toHaveLength(1);
    const events = await h.deps.db.selectFrom('audit_events').select('seq').where('action', '=', 'user.created').execute();
    expect(events).toHaveLength(1);
  });

  it('keeps the email trimmed and in lower case, and the name trimmed', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    const res = await postForm(h.app, '/admin/users', admin, { ...GOOD, email: '  Mixed.Case@Test.Example ', name: '  Mixed Case  ' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/users?done=created');
    expect(await accountsNamed('mixed.case@test.example')).toEqual([expect.objectContaining({ name: 'Mixed Case', role: 'user' })]);
  });

  it.each([
    ['an email without @', { email: 'nobody.test.example' }],
    ['an email longer than 200 characters', { email: `${'a'.repeat(195)}@test.example` }],
    ['an empty name', { name: '   ' }],
    ['a name longer than 200 characters', { name: 'n'.repeat(201) }],
    ['a password shorter than 12 characters', { password: 'short-pass1' }],
    ['a password longer than 200 characters', { password: 'p'.repeat(201) }],
    ['an unknown role', { role: 'root' }],
  ])('refuses %s with 400 and writes nothing', async (_name, change) => {
    const admin = await portalLogin(h, h.people.admin.id);
    const before = (await createdEvents()).length;
    const fields = { ...GOOD, email: 'refused@test.example', ...change };
    const res = await postForm(h.app, '/admin/users', admin, fields);
    expect(res.status).toBe(400);
    expect(await accountsNamed(fields.email.trim().toLowerCase())).toHaveLength(0);
    expect(await createdEvents()).toHaveLength(before);
  });

  it('is for admins only: helpdesk gets 403, nobody signed in goes to sign in, a missing CSRF token is 403', async () => {
    const helpdesk = await portalLogin(h, h.people.helpdesk.id);
    expect((await postForm(h.app, '/admin/users', helpdesk, { ...GOOD, email: 'by.helpdesk@test.example' })).status).toBe(403);
    const anonymous = await postForm(h.app, '/admin/users', { cookie: '', csrf: '' }, { ...GOOD, email: 'by.nobody@test.example' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/login?next=%2Fdevices');
    const admin = await portalLogin(h, h.people.admin.id);
    expect((await postForm(h.app, '/admin/users', { ...admin, csrf: 'not-the-token' }, { ...GOOD, email: 'no.csrf@test.example' })).status).toBe(403);
    for (const email of ['by.helpdesk@test.example', 'by.nobody@test.example', 'no.csrf@test.example']) expect(await accountsNamed(email)).toHaveLength(0);
  });
});
