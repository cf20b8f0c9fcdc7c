/**
 * Account management on the admin users page, on SQLite and PostgreSQL: disabling ends the
 * person's portal sessions and extension grants at once while their devices' agents keep
 * working; a temporary password works once for a limited time and must be changed; deleting
 * leaves devices without an owner and the audit log still naming the person; search and
 * paging; every action is audited and needs the page's CSRF token; and a person ends their own
 * sessions and connected browsers (never someone else's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { call, createHarness, enrollMac, portalLogin, postForm, tokensFor, type FormCredentials, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('account management (%s)', (kind) => {
  let h: Harness;
  let admin: FormCredentials;

  beforeAll(async () => {
    h = await createHarness(kind);
    admin = await portalLogin(h, h.people.admin.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = (path: string, as: FormCredentials | null) => h.app.request(path, { headers: as ? { cookie: as.cookie } : {} });
  const detailsOf = async (action: string) =>
    (await h.deps.db.selectFrom('audit_events').select('detail').where('action', '=', action).orderBy('seq').execute()).map((e) => JSON.parse(e.detail) as Record<string, unknown>);

  async function passwordSignIn(email: string, password: string): Promise<Response> {
    const page = await h.app.request('/login');
    const csrfCookie = (page.headers.getSetCookie().find((c) => c.startsWith('kw_csrf=')) ?? '').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    return h.app.request('/login', {
      method: 'POST',
      headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email, password, next: '/devices' }).toString(),
    });
  }

  function sessionOf(res: Response): FormCredentials {
    const cookie = (res.headers.getSetCookie().find((c) => c.startsWith('kw_session=')) ?? '').split(';')[0];
    return { cookie, csrf: '' };
  }

  async function withCsrf(as: FormCredentials, path = '/browsers'): Promise<FormCredentials> {
    const text = await (await get(path, as)).text();
    return { cookie: as.cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? '' };
  }

  it('disabling ends the account’s sessions and extension at once; its device’s agent keeps working; enabling lets it back in', async () => {
    const owner = h.people.owner;
    const agent = await enrollMac(h, 'corporate');
    const session = await portalLogin(h, owner.id);
    const tokens = await tokensFor(h.app, h.deps, owner.id);
    const res = await postForm(h.app, `/admin/users/${owner.id}/disable`, admin, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/users?done=disabled');

    expect((await get('/devices', session)).status).toBe(303);
    expect((await call(h.app, 'GET', '/api/v1/devices', owner.token)).status).toBe(401);
    expect((await call(h.app, 'GET', '/api/v1/devices', tokens.access_token)).status).toBe(401);
    expect((await call(h.app, 'POST', '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).body.error?.code).toBe('invalid_grant');
    const refused = await passwordSignIn(owner.email, `${owner.email}-pass`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('This account is disabled. Contact IT support.');

    expect(await agent.checkin()).toEqual([]);
    expect((await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.helpdesk.token)).status).toBe(200);
    const list = await (await get('/admin/users', admin)).text();
    expect(list).toMatch(new RegExp(`data-user="${owner.email}"[\\s\\S]*?data-state="disabled"`));

    const [event] = await detailsOf('user.disabled');
    expect(event).toMatchObject({ userId: owner.id, email: owner.email, sessionsEnded: 1 });
    expect(Number(event.browsersSignedOut)).toBeGreaterThanOrEqual(2);

    expect((await postForm(h.app, `/admin/users/${owner.id}/enable`, admin, {})).status).toBe(303);
    expect((await passwordSignIn(owner.email, `${owner.email}-pass`)).status).toBe(303);
    expect(await detailsOf('user.enabled')).toHaveLength(1);
    h.people.owner.token = (await tokensFor(h.app, h.deps, owner.id)).access_token;
  });

  it('account actions need an admin and the page’s CSRF token; nothing changes without them', async () => {
    const other = h.people.other;
    const noToken = await h.app.request(`/admin/users/${other.id}/disable`, { method: 'POST', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(noToken.status).toBe(403);
    const helpdesk = await portalLogin(h, h.people.helpdesk.id);
    for (const action of ['disable', 'reset-password', 'delete', 'role']) {
      expect((await postForm(h.app, `/admin/users/${other.id}/${action}`, helpdesk, { role: 'admin' })).status).toBe(403);
    }
    const row = await h.deps.db.selectFrom('users').selectAll().where('id', '=', other.id).executeTakeFirstOrThrow();
    expect([row.disabled_at, row.deleted_at, row.password_temporary_until, row.role]).toEqual([null, null, null, 'user']);
    expect((await postForm(h.app, `/admin/users/${randomUUID()}/disable`, admin, {})).status).toBe(404);
  });

  it('a temporary password is shown once, works until it expires, and must be changed before anything else', async () => {
    const other = h.people.other;
    const before = await portalLogin(h, other.id);
    const reset = await postForm(h.app, `/admin/users/${other.id}/reset-password`, admin, {});
    expect(reset.status).toBe(200);
    const text = await reset.text();
    const temporary = /id="temporary-password">([a-z2-9-]+)</.exec(text)?.[1] ?? '';
    expect(temporary).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expect(reset.headers.get('cache-control')).toBe('no-store');
    const [event] = await h.deps.db.selectFrom('audit_events').select('detail').where('action', '=', 'user.password_reset').execute();
    expect(event.detail).not.toContain(temporary);
    expect((await get('/devices', before)).status).toBe(303);
    expect((await passwordSignIn(other.email, `${other.email}-pass`)).status).toBe(401);

    const signedIn = await passwordSignIn(other.email, temporary);
    expect(signedIn.status).toBe(303);
    const session = sessionOf(signedIn);
    for (const path of ['/devices', '/browsers', '/oauth/authorize']) {
      const res = await get(path, session);
      expect([path, res.status, res.headers.get('location')]).toEqual([path, 303, '/account/password']);
    }
    const form = await withCsrf(session, '/account/password');
    expect((await postForm(h.app, '/account/password', form, { current: 'wrong', password: 'my-own-long-password', confirm: 'my-own-long-password' })).status).toBe(400);
    const mismatch = await postForm(h.app, '/account/password', form, { current: temporary, password: 'my-own-long-password', confirm: 'my-own-long-passw0rd' });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('The two new passwords are not the same.');
    expect((await postForm(h.app, '/account/password', form, { current: temporary, password: 'short', confirm: 'short' })).status).toBe(400);
    const changed = await postForm(h.app, '/account/password', form, { current: temporary, password: 'my-own-long-password', confirm: 'my-own-long-password' });
    expect([changed.status, changed.headers.get('location')]).toEqual([303, '/account/password?done=1']);
    expect((await get('/devices', session)).status).toBe(200);
    expect((await passwordSignIn(other.email, temporary)).status).toBe(401);
    expect((await passwordSignIn(other.email, 'my-own-long-password')).status).toBe(303);
    expect(await detailsOf('user.password_changed')).toEqual([{ wasTemporary: true, otherSessionsEnded: 0 }]);

    // An unused temporary password stops working after its time.
    const again = await postForm(h.app, `/admin/users/${other.id}/reset-password`, admin, {});
    const second = /id="temporary-password">([a-z2-9-]+)</.exec(await again.text())?.[1] ?? '';
    h.clock.advance(73 * 3_600_000);
    try {
      const expired = await passwordSignIn(other.email, second);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toContain('Your temporary password has expired.');
    } finally {
      h.clock.advance(-73 * 3_600_000);
    }
  });

  it('deleting an account leaves its devices without an owner, keeps its name in the audit log, and frees its email', async () => {
    const person = await postForm(h.app, '/admin/users', admin, { email: 'leaver@test.example', name: 'Lea Leaver', role: 'user', password: 'leaver-password-1' });
    expect(person.status).toBe(303);
    const leaver = await h.deps.db.selectFrom('users').selectAll().where('email', '=', 'leaver@test.example').executeTakeFirstOrThrow();
    const session = await portalLogin(h, leaver.id);
    // Something the leaver did, which the audit log must keep attributing to them.
    expect((await postForm(h.app, '/account/password', await withCsrf(session, '/account/password'), { current: 'leaver-password-1', password: 'leaver-password-2', confirm: 'leaver-password-2' })).status).toBe(303);
    await h.deps.db.updateTable('devices').set({ owner_id: leaver.id }).where('owner_id', '=', h.people.owner.id).execute();
    const devices = await h.deps.db.selectFrom('devices').select('id').where('owner_id', '=', leaver.id).execute();
    expect(devices.length).toBeGreaterThan(0);

    const confirm = await get(`/admin/users/${leaver.id}/delete`, admin);
    expect(await confirm.text()).toContain(`Devices that will have no owner: ${devices.length}.`);
    const deleted = await postForm(h.app, `/admin/users/${leaver.id}/delete`, admin, {});
    expect([deleted.status, deleted.headers.get('location')]).toEqual([303, '/admin/users?done=deleted']);

    expect((await get('/devices', session)).status).toBe(303);
    expect((await passwordSignIn('leaver@test.example', 'leaver-password-2')).status).toBe(401);
    expect(await (await get('/admin/users', admin)).text()).not.toContain('leaver@test.example');
    const view = await call(h.app, 'GET', `/api/v1/devices/${devices[0].id}`, h.people.helpdesk.token);
    expect(view.body).toMatchObject({ ownerId: null, ownerName: null });
    expect(await (await get(`/admin/devices/${devices[0].id}`, admin)).text()).toContain('data-no-owner="1"');
    expect(await (await get('/admin/devices', admin)).text()).toContain('No owner');
    const audit = await (await get(`/admin/audit?actorId=${leaver.id}`, admin)).text();
    expect(audit).toContain('Lea Leaver');
    expect(audit).toContain('user.password_changed');
    const [event] = await detailsOf('user.deleted');
    expect(event).toMatchObject({ userId: leaver.id, email: 'leaver@test.example', name: 'Lea Leaver', devicesWithoutOwner: devices.length });

    expect((await postForm(h.app, '/admin/users', admin, { email: 'leaver@test.example', name: 'New Lea', role: 'user', password: 'another-password-1' })).status).toBe(303);
    expect((await postForm(h.app, `/admin/users/${leaver.id}/enable`, admin, {})).status).toBe(404);
  });

  it('the users page searches by email or name and pages through every account', async () => {
    const at = new Date().toISOString();
    const org = await h.deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
    await h.deps.db
      .insertInto('users')
      .values(Array.from({ length: 60 }, (_, i) => ({ id: randomUUID(), org_id: org.id, email: `zz${String(i).padStart(2, '0')}@crowd.example`, name: i === 7 ? 'Ölof 100%' : `Crowd ${i}`, password_hash: '', role: 'user', locale: 'en', created_at: at })))
      .execute();
    const total = (await h.deps.db.selectFrom('users').select('id').where('deleted_at', 'is', null).execute()).length;
    const first = await (await get('/admin/users', admin)).text();
    expect([...first.matchAll(/<tr data-user="/g)]).toHaveLength(50);
    expect(first).toContain(`1–50 of ${total} accounts`);
    const second = await (await get('/admin/users?page=2', admin)).text();
    expect([...second.matchAll(/<tr data-user="/g)]).toHaveLength(total - 50);
    expect(second).toContain('id="users-previous"');
    expect(second).not.toContain('id="users-next"');

    const crowd = await (await get('/admin/users?q=CROWD.example', admin)).text();
    expect(crowd).toContain('1–50 of 60 accounts');
    expect(crowd).toContain('href="/admin/users?q=CROWD.example&amp;page=2"');
    const byName = await (await get(`/admin/users?q=${encodeURIComponent('100%')}`, admin)).text();
    expect([...byName.matchAll(/<tr data-user="([^"]+)"/g)].map((m) => m[1])).toEqual(['zz07@crowd.example']);
    const wildcard = await (await get(`/admin/users?q=${encodeURIComponent('_')}`, admin)).text();
    expect(wildcard).toContain('0–0 of 0 accounts');
  });

  it('a person sees their own sessions and connected browsers and ends each (audited), but never someone else’s', async () => {
    const owner = h.people.owner;
    const here = await withCsrf(await portalLogin(h, owner.id));
    const elsewhere = await portalLogin(h, owner.id);
    const stranger = await withCsrf(await portalLogin(h, h.people.other.id));
    const page = await (await get('/browsers', here)).text();
    const sessions = [...page.matchAll(/<tr data-session="([0-9a-f]+)"( data-current="1")?/g)].map((m) => ({ id: m[1], current: m[2] !== undefined }));
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const other = sessions.find((s) => !s.current && s.id !== undefined);
    expect(other).toBeDefined();

    expect((await postForm(h.app, '/sessions/end', stranger, { session: other?.id ?? '' })).status).toBe(303);
    expect((await get('/devices', elsewhere)).status).toBe(200);

    const ended = await postForm(h.app, '/sessions/end', here, { session: other?.id ?? '' });
    expect([ended.status, ended.headers.get('location')]).toEqual([303, '/browsers?ended=1']);
    expect((await get('/devices', elsewhere)).status).toBe(303);
    expect((await get('/devices', here)).status).toBe(200);

    const grant = await h.deps.db.selectFrom('oauth_grants').select('id').where('user_id', '=', owner.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    expect((await postForm(h.app, `/browsers/${grant.id}/revoke`, stranger, {})).status).toBe(303);
    expect((await h.deps.db.selectFrom('oauth_grants').select('revoked_at').where('id', '=', grant.id).executeTakeFirstOrThrow()).revoked_at).toBeNull();
    expect((await postForm(h.app, `/browsers/${grant.id}/revoke`, here, {})).status).toBe(303);
    expect((await h.deps.db.selectFrom('oauth_grants').select('revoked_at').where('id', '=', grant.id).executeTakeFirstOrThrow()).revoked_at).not.toBeNull();

    const current = sessions.find((s) => s.current)?.id ?? '';
    const out = await postForm(h.app, '/sessions/end', here, { session: current });
    expect([out.status, out.headers.get('location')]).toEqual([303, '/login']);
    expect(out.headers.getSetCookie().some((c) => /^kw_session=;/.test(c))).toBe(true);
    expect((await get('/devices', here)).status).toBe(303);

    const events = await h.deps.db.selectFrom('audit_events').select(['action', 'actor_id']).where('action', 'in', ['session.ended', 'browser.revoked']).orderBy('seq').execute();
    expect(events).toEqual([
      { action: 'session.ended', actor_id: owner.id },
      { action: 'browser.revoked', actor_id: owner.id },
      { action: 'session.ended', actor_id: owner.id },
    ]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('the last active admin (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function newAdmin(label: string): Promise<string> {
    const org = await h.deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
    const id = randomUUID();
    await h.deps.db.insertInto('users').values({ id, org_id: org.id, email: `${label}@admins.example`, name: label, password_hash: '', role: 'admin', locale: 'en', created_at: new Date().toISOString() }).execute();
    return id;
  }

  /** Only `ids` are active admins. */
  async function onlyAdmins(ids: string[]): Promise<void> {
    await h.deps.db.updateTable('users').set({ role: 'user' }).where('role', '=', 'admin').where('id', 'not in', ids).execute();
  }

  const activeAdmins = async () => (await h.deps.db.selectFrom('users').select('id').where('role', '=', 'admin').where('disabled_at', 'is', null).where('deleted_at', 'is', null).execute()).length;

  it('cannot be demoted, and an admin cannot disable, delete or reset their own account', async () => {
    const a = await newAdmin('solo');
    await onlyAdmins([a]);
    const as = await portalLogin(h, a);
    const demote = await postForm(h.app, `/admin/users/${a}/role`, as, { role: 'helpdesk' });
    expect(demote.status).toBe(409);
    expect(await demote.text()).toContain('The organisation must keep at least one admin.');
    for (const action of ['disable', 'delete', 'reset-password']) {
      const res = await postForm(h.app, `/admin/users/${a}/${action}`, as, {});
      expect([action, res.status]).toEqual([action, 409]);
    }
    expect(await activeAdmins()).toBe(1);
  });

  it('a disabled admin does not count: the remaining active admin cannot be demoted', async () => {
    const a = await newAdmin('keeper');
    const b = await newAdmin('leaving');
    await onlyAdmins([a, b]);
    const as = await portalLogin(h, a);
    expect((await postForm(h.app, `/admin/users/${b}/disable`, as, {})).status).toBe(303);
    expect((await postForm(h.app, `/admin/users/${a}/role`, as, { role: 'user' })).status).toBe(409);
    expect(await activeAdmins()).toBe(1);
  });

  it.each([
    ['disable each other', 'disable', 'disable'],
    ['delete each other', 'delete', 'delete'],
    ['one disables while the other deletes', 'disable', 'delete'],
    ['one demotes while the other disables', 'role', 'disable'],
  ] as const)('two admins who %s at the same moment leave one active admin', async (_name, first, second) => {
    for (let round = 0; round < 5; round++) {
      const a = await newAdmin(`a-${first}-${second}-${round}`);
      const b = await newAdmin(`b-${first}-${second}-${round}`);
      await onlyAdmins([a, b]);
      const [asA, asB] = [await portalLogin(h, a), await portalLogin(h, b)];
      const answers = await Promise.all([
        postForm(h.app, `/admin/users/${b}/${first}`, asA, { role: 'user' }),
        postForm(h.app, `/admin/users/${a}/${second}`, asB, { role: 'user' }),
      ]);
      expect([round, await activeAdmins()]).toEqual([round, 1]);
      const outcomes = answers.map((r) => (r.headers.get('location') ?? String(r.status)).replace(/^\/login\?.*$/, 'signed out').replace(/\?done=.*$/, ''));
      // One goes through; the other is refused as the last admin, or because its author is no
      // active admin any more (or, disabled or deleted before its request was read, signed out).
      expect(outcomes.filter((o) => o === '/admin/users')).toHaveLength(1);
      expect(['403', '409', 'signed out']).toContain(outcomes.find((o) => o !== '/admin/users'));
    }
  });
});
