/**
 * The admin console's reveal form keeps the API's rules for the typed reason: a reason longer
 * than the API accepts (500 characters) or shorter than 10 characters is refused on the page,
 * with no key shown and nothing audited, and the form says what is needed; a normal reason
 * reveals the key. The service counts characters, in every language, and says so in the
 * reader's language.
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

  it('the API refuses a reason of nine characters, naming the minimum in the reader\'s language; ten are enough', async () => {
    const before = await reveals();
    const revealWith = (reason: string, locale: string) =>
      call(h.app, 'POST', `/api/v1/devices/${deviceId}/reveal`, h.people.helpdesk.token, { reason }, { 'accept-language': locale });
    const short = await revealWith('INC-1 bug', 'nl');
    expect(short.status).toBe(400);
    expect(short.body.error).toEqual({ code: 'reason_too_short', field: 'reason', message: 'Geef een reden van minstens 10 tekens, bijvoorbeeld een ticketnummer en wie erom vroeg.' });
    // Spaces around the reason do not count; characters are characters, not UTF-16 units.
    expect((await revealWith('   INC-1 bug   ', 'en')).body.error?.code).toBe('reason_too_short');
    const japanese = await revealWith('鍵を忘れた利用者対', 'ja');
    expect(japanese.body.error?.message).toBe('理由を 10 文字以上で入力してください (チケット番号、依頼者など)。');
    expect(await reveals()).toBe(before);
    expect((await revealWith('鍵を忘れた利用者対応', 'ja')).body.key).toBe(FV_KEY_1);
    expect((await revealWith('INC-12 bug', 'en')).body.key).toBe(FV_KEY_1);
    expect(await reveals()).toBe(before + 2);
  });

  it('the form asks for ten characters and refuses nine with the reason why', async () => {
    const page = await (await h.app.request(`/admin/devices/${deviceId}`, { headers: { cookie: helpdesk.cookie } })).text();
    expect(page).toMatch(/<input type="text" id="reason" name="reason" minlength="10" maxlength="500" required/);
    expect(page).toContain('At least 10 characters.');
    const before = await reveals();
    const res = await reveal('INC-1 bug');
    expect(res.status).toBe(400);
    const refused = await res.text();
    expect(refused).toContain('Type a reason of at least 10 characters, such as a ticket number and who asked.');
    expect(refused).not.toContain('id="revealed-key"');
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
