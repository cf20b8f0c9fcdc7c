/**
 * Names and text that come from devices, agents and people are shown inert on every portal
 * page: a device called `<script>alert(1)</script>`, a hostile volume name, owner name and IT
 * reason appear as text, never as markup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/seed.ts';
import { call, createHarness, FV_KEY_1, portalLogin, TestAgent, type Harness } from './harness.ts';

const HOSTILE = {
  device: '<script>alert(1)</script>',
  volume: '<img src=x onerror=alert(2)>',
  owner: '"><svg onload=alert(3)>',
  reason: "INC-1 </td><script>alert(4)</script>",
};

describe('portal pages escape what others typed', () => {
  let h: Harness;
  let deviceId = '';
  let ownerCookie = '';
  let adminCookie = '';

  beforeAll(async () => {
    h = await createHarness('sqlite');
    const org = await h.deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
    const ownerId = await createUser(h.deps, { orgId: org.id, email: 'mallory@test.example', name: HOSTILE.owner, password: 'mallory-password', role: 'user' });
    const mac = await TestAgent.enroll(h, { owner: { id: ownerId, email: 'mallory@test.example', token: '' }, ownership: 'corporate', name: HOSTILE.device, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: HOSTILE.volume }, { ref: 'disk2s1', name: 'Data' }] });
    deviceId = mac.deviceId;
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    expect((await call(h.app, 'POST', `/api/v1/devices/${deviceId}/reveal`, h.people.admin.token, { reason: HOSTILE.reason })).status).toBe(200);
    ownerCookie = (await portalLogin(h, ownerId)).cookie;
    adminCookie = (await portalLogin(h, h.people.admin.id)).cookie;
  });
  afterAll(async () => {
    await h?.close();
  });

  const pages = () => [
    { path: '/devices', cookie: ownerCookie },
    { path: `/devices/${deviceId}`, cookie: ownerCookie },
    { path: '/admin/devices', cookie: adminCookie },
    { path: `/admin/devices/${deviceId}`, cookie: adminCookie },
    { path: '/admin/audit', cookie: adminCookie },
    { path: '/admin/users', cookie: adminCookie },
  ];

  it('no page carries the hostile markup, and each shows it as text', async () => {
    for (const { path, cookie } of pages()) {
      const res = await h.app.request(path, { headers: { cookie } });
      expect(res.status, path).toBe(200);
      const page = await res.text();
      for (const bad of ['<script>alert', '<img src=x', '<svg onload', '"><svg']) expect(page, `${path} carries ${bad}`).not.toContain(bad);
      // The only scripts are the page's own, with this answer's nonce.
      const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
      for (const tag of page.match(/<script[^>]*>/g) ?? []) expect(tag, path).toBe(`<script nonce="${nonce}">`);
    }
    const device = await (await h.app.request(`/devices/${deviceId}`, { headers: { cookie: ownerCookie } })).text();
    expect(device).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(device).toContain('&lt;img src=x onerror=alert(2)&gt;');
    const audit = await (await h.app.request(`/admin/devices/${deviceId}`, { headers: { cookie: adminCookie } })).text();
    expect(audit).toContain('INC-1 &lt;/td&gt;&lt;script&gt;alert(4)&lt;/script&gt;');
    expect(audit).toContain('&quot;&gt;&lt;svg onload=alert(3)&gt;');
  });
});
