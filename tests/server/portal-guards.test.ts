/**
 * The portal's route guards as people meet them: nobody signed in is sent to sign in (back to
 * the page asked for; after a form post, to the devices), or gets 401 for a page's live part;
 * a role that may not enter gets 403 (helpdesk at the audit log: a page saying only admins see
 * it); a form without its CSRF token or not urlencoded is refused before anything is done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { t } from '../../lib/i18n/index.ts';
import { createHarness, enrollMac, portalLogin, postForm, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('portal guards (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = (path: string, cookie = '') => h.app.request(path, { headers: { cookie } });

  it('sends nobody signed in to sign in, back to the page they asked for', async () => {
    for (const path of ['/devices', '/browsers', '/admin/devices?status=escrowed', '/admin/users?q=a b', '/admin/policy', '/admin/audit', '/account/password']) {
      const res = await get(path);
      expect([path, res.status]).toEqual([path, 303]);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(new URL(path, 'http://x').pathname + new URL(path, 'http://x').search)}`);
    }
  });

  it('after a form post without a session, sign-in leads to the devices; nothing is written', async () => {
    const res = await postForm(h.app, '/admin/policy', { cookie: '', csrf: '' }, { supportContact: 'x', checkinThresholdMinutes: '5', offlineCache: 'keys' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fdevices');
    expect(await h.deps.db.selectFrom('audit_events').select('seq').where('action', '=', 'policy.changed').execute()).toHaveLength(0);
  });

  it("answers 401 for a device page's live part without a session", async () => {
    const mac = await enrollMac(h, 'corporate');
    expect((await get(`/devices/${mac.deviceId}/live`)).status).toBe(401);
    expect((await get(`/admin/devices/${mac.deviceId}/live`)).status).toBe(401);
  });

  it('lets each role in only where it belongs', async () => {
    const user = (await portalLogin(h, h.people.owner.id)).cookie;
    const helpdesk = (await portalLogin(h, h.people.helpdesk.id)).cookie;
    const admin = (await portalLogin(h, h.people.admin.id)).cookie;
    for (const path of ['/admin/devices', '/admin/users', '/admin/policy', '/admin/audit']) expect([path, (await get(path, user)).status]).toEqual([path, 403]);
    expect((await get('/admin/devices', helpdesk)).status).toBe(200);
    for (const path of ['/admin/users', '/admin/policy']) expect([path, (await get(path, helpdesk)).status]).toEqual([path, 403]);
    const audit = await get('/admin/audit', helpdesk);
    expect(audit.status).toBe(403);
    expect(await audit.text()).toContain(t('en', 'portal.audit_admins_only'));
    for (const path of ['/admin/devices', '/admin/users', '/admin/policy', '/admin/audit']) expect([path, (await get(path, admin)).status]).toEqual([path, 200]);
  });

  it('refuses a form with a wrong CSRF token (403) or in another encoding (415) before acting', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    const fields = { supportContact: 'guarded@test.example', checkinThresholdMinutes: '5', offlineCache: 'keys' };
    expect((await postForm(h.app, '/admin/policy', { ...admin, csrf: 'x'.repeat(43) }, fields)).status).toBe(403);
    const json = await h.app.request('/admin/policy', { method: 'POST', headers: { cookie: admin.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ _csrf: admin.csrf, ...fields }) });
    expect(json.status).toBe(415);
    const org = await h.deps.db.selectFrom('org').select('support_contact').executeTakeFirstOrThrow();
    expect(org.support_contact).not.toBe('guarded@test.example');
  });
});
