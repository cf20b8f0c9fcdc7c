/**
 * The audit log is the admins' (DESIGN.md › People): in the admin console an admin finds it
 * from the device list and on each device page; helpdesk sees no link to it, no audit section
 * on a device page, and `/admin/audit` answers 403 with a page in its language saying that
 * only admins see the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, enrollMac, FV_KEY_1, portalLogin, type Harness } from './harness.ts';

describe('the audit log in the admin console is for admins only', () => {
  let h: Harness;
  let deviceId = '';
  const cookies = { helpdesk: '', admin: '', owner: '' };

  beforeAll(async () => {
    h = await createHarness('sqlite');
    const mac = await enrollMac(h, 'corporate');
    deviceId = mac.deviceId;
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    expect((await call(h.app, 'POST', `/api/v1/devices/${deviceId}/reveal`, h.people.helpdesk.token, { reason: 'INC-31 user locked out' })).status).toBe(200);
    for (const who of ['helpdesk', 'admin', 'owner'] as const) cookies[who] = (await portalLogin(h, h.people[who].id)).cookie;
  });
  afterAll(async () => {
    await h?.close();
  });

  async function get(path: string, cookie: string) {
    const res = await h.app.request(path, { headers: { cookie } });
    return { status: res.status, text: await res.text() };
  }

  it('an admin follows the link from the device list to the whole log, and sees the device’s events on its page', async () => {
    const list = await get('/admin/devices', cookies.admin);
    expect(list.text).toContain('href="/admin/audit"');
    const audit = await get('/admin/audit', cookies.admin);
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('data-ok="true"');
    expect(audit.text).toContain('INC-31 user locked out');
    const device = await get(`/admin/devices/${deviceId}`, cookies.admin);
    expect(device.text).toContain('<table id="audit">');
    expect(device.text).toContain('INC-31 user locked out');
  });

  it('helpdesk sees no audit link and no audit section, and keeps the device list and the reveal form', async () => {
    const list = await get('/admin/devices', cookies.helpdesk);
    expect(list.status).toBe(200);
    expect(list.text).toContain(`href="/admin/devices/${deviceId}"`);
    expect(list.text).not.toContain('/admin/audit');
    const device = await get(`/admin/devices/${deviceId}`, cookies.helpdesk);
    expect(device.status).toBe(200);
    expect(device.text).toContain('id="reveal-form"');
    expect(device.text).not.toContain('<table id="audit">');
    expect(device.text).not.toContain('INC-31 user locked out');
  });

  it('helpdesk opening /admin/audit gets 403 and a page in its language saying only admins see the log', async () => {
    const english = await get('/admin/audit', cookies.helpdesk);
    expect(english.status).toBe(403);
    expect(english.text).toContain('Only admins can see the audit log.');
    expect(english.text).not.toContain('INC-31 user locked out');
    expect(english.text).not.toContain('<table id="audit">');
    await h.deps.db.updateTable('users').set({ locale: 'ja' }).where('id', '=', h.people.helpdesk.id).execute();
    try {
      const japanese = await get('/admin/audit', cookies.helpdesk);
      expect(japanese.status).toBe(403);
      expect(japanese.text).toContain('<html lang="ja">');
      expect(japanese.text).toContain('監査ログを表示できるのは管理者だけです。');
    } finally {
      await h.deps.db.updateTable('users').set({ locale: 'en' }).where('id', '=', h.people.helpdesk.id).execute();
    }
  });

  it('an ordinary user is still kept out of the admin console as a whole', async () => {
    const page = await get('/admin/audit', cookies.owner);
    expect(page.status).toBe(403);
    expect(page.text).toContain('You are not allowed to do this.');
    expect(page.text).not.toContain('INC-31 user locked out');
  });
});
