/**
 * The admin console's reveal form keeps the API's rules for the typed reason: a reason longer
 * than the API accepts (500 characters) is refused on the page, with no key shown and nothing
 * audited; a normal reason reveals the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, enrollMac, FV_KEY_1, portalLogin, postForm, type FormCredentials, type Harness } from './harness.ts';

describe('admin console reveal form', () => {
  let h: Harness;
  let deviceId = '';
  let helpdesk: FormCredentials;

  beforeAll(async () => {
    h = await createHarness('sqlite');
    const mac = await enrollMac(h, 'corporate');
    deviceId = mac.deviceId;
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    helpdesk = await portalLogin(h, h.people.helpdesk.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  const reveals = async () => (await h.deps.db.selectFrom('audit_events').select('seq').where('action', '=', 'key.revealed').execute()).length;

  function reveal(reason: string) {
    return postForm(h.app, `/admin/devices/${deviceId}/reveal`, helpdesk, { reason });
  }

  it('a reason the API would refuse is refused here too, and nothing is revealed', async () => {
    const tooLong = `INC-7 ${'x'.repeat(500)}`;
    expect((await call(h.app, 'POST', `/api/v1/devices/${deviceId}/reveal`, h.people.helpdesk.token, { reason: tooLong })).status).toBe(400);
    const before = await reveals();
    const res = await reveal(tooLong);
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain('id="reveal-error"');
    expect(page).not.toContain('id="revealed-key"');
    expect(await reveals()).toBe(before);
  });

  it('a normal reason reveals the key and audits it', async () => {
    const before = await reveals();
    const res = await reveal('INC-7 user locked out');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('id="revealed-key"');
    expect(await reveals()).toBe(before + 1);
  });
});
