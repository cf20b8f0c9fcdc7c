/**
 * The device lifecycle and what the console learns from agents, on both databases: IT retires a
 * device (the agent is refused at once, keys kept for the retention period, then destroyed)
 * and re-enrolls it; credentials rotate at check-in and a stale or expired one is refused with
 * a code the agent stops on; a refused enrollment leaves its token usable; the cause a device
 * reports reaches the owner's page in words; a task whose agent vanished is handed out again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { t } from '../../lib/i18n/index.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import type { Locale } from '../../lib/api/contract.ts';
import { createEnrollmentToken } from '../../server/services/agent-enroll.ts';
import { destroyExpiredKeyVersions } from '../../server/services/retention.ts';
import { call, createHarness, enrollMac, FV_KEY_1, FV_KEY_2, portalLogin, postForm, TestAgent, tokensFor, type Harness } from './harness.ts';

const DAY = 86_400_000;

/** A message as the portal writes it into HTML. */
function inHtml(locale: Locale, id: MessageId, params: Record<string, string | number> = {}): string {
  return t(locale, id, params).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

describe.each(['sqlite', 'postgres'] as const)('device lifecycle (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function page(userId: string, path: string): Promise<{ status: number; text: string }> {
    const { cookie } = await portalLogin(h, userId);
    const res = await h.app.request(path, { headers: { cookie } });
    return { status: res.status, text: await res.text() };
  }

  async function auditActions(deviceId: string): Promise<string[]> {
    return (await h.deps.db.selectFrom('audit_events').select('action').where('device_id', '=', deviceId).orderBy('seq').execute()).map((e) => e.action);
  }

  it('IT retires a device: its agent is refused at once, the key stays viewable for the retention period and is then destroyed', async () => {
    const mac = await enrollMac(h, 'corporate');
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    const owner = await portalLogin(h, h.people.owner.id);
    expect((await postForm(h.app, `/admin/devices/${mac.deviceId}/retire`, owner, {})).status).toBe(403);
    const helpdesk = await portalLogin(h, h.people.helpdesk.id);
    const retired = await postForm(h.app, `/admin/devices/${mac.deviceId}/retire`, helpdesk, {});
    expect(retired.status).toBe(303);

    const refused = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [] });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'device_retired', message: t('en', 'error.device_retired') });
    const view = await call(h.app, 'GET', `/api/v1/devices/${mac.deviceId}`, h.people.admin.token);
    expect(view.body.retiredAt).toEqual(expect.any(String));
    const admin = await page(h.people.admin.id, `/admin/devices/${mac.deviceId}`);
    expect(admin.text).toContain('id="retired"');
    expect(admin.text).toContain('id="reenroll"');
    expect((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/rotate`, h.people.owner.token, {})).body.error?.code).toBe('device_retired');

    // Within the retention period IT can still view the corporate key.
    const revealed = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.admin.token, { reason: 'returned laptop, data recovery' });
    expect(revealed.body.key).toBe(FV_KEY_1);
    h.clock.advance(91 * DAY);
    try {
      expect(await destroyExpiredKeyVersions(h.deps, h.deps.config.retiredRetentionDays)).toBeGreaterThan(0);
      const { access_token: adminNow } = await tokensFor(h.app, h.deps, h.people.admin.id);
      const after = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, adminNow, { reason: 'returned laptop, data recovery' });
      expect(after.status).toBe(404);
      expect(after.body.error?.code).toBe('no_key');
    } finally {
      h.clock.advance(-91 * DAY);
    }
    expect(await auditActions(mac.deviceId)).toEqual(expect.arrayContaining(['device.retired', 'key.destroyed']));
  });

  it('a re-enrollment token brings the retired device back: same device and volume, new credential, the old one refused', async () => {
    const mac = await enrollMac(h, 'corporate');
    const volumeBefore = await h.deps.db.selectFrom('volumes').select('id').where('device_id', '=', mac.deviceId).executeTakeFirstOrThrow();
    const admin = await portalLogin(h, h.people.admin.id);
    expect((await postForm(h.app, `/admin/devices/${mac.deviceId}/reenroll-token`, admin, {})).status).toBe(409);
    await postForm(h.app, `/admin/devices/${mac.deviceId}/retire`, admin, {});
    const tokenPage = await postForm(h.app, `/admin/devices/${mac.deviceId}/reenroll-token`, admin, {});
    expect(tokenPage.status).toBe(200);
    expect(tokenPage.headers.get('cache-control')).toBe('no-store');
    const tokenHtml = await tokenPage.text();
    const token = /kwe_[A-Za-z0-9_-]+/.exec(tokenHtml)?.[0] ?? '';
    expect(token).not.toBe('');
    expect(tokenHtml, 'the command carries the real token').toContain(`--token ${token} (with the same --driver and --volume options as before)`);

    const again = await call(h.app, 'POST', '/api/v1/agent/enroll', null, { token, name: 'Mac (reinstalled)', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true }] });
    expect(again.status).toBe(201);
    expect(again.body.deviceId).toBe(mac.deviceId);
    expect((await call(h.app, 'POST', '/api/v1/agent/checkin', String(again.body.credential), { volumes: [] })).status).toBe(200);
    expect((await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [] })).body.error?.code).toBe('credential_revoked');
    const view = await call(h.app, 'GET', `/api/v1/devices/${mac.deviceId}`, h.people.admin.token);
    expect(view.body).toMatchObject({ retiredAt: null, name: 'Mac (reinstalled)' });
    expect((view.body.volumes as { id: string }[]).map((v) => v.id)).toEqual([volumeBefore.id]);
    expect(await auditActions(mac.deviceId)).toEqual(expect.arrayContaining(['device.retired', 'enrollment_token.reenroll', 'device.reenrolled']));
  });

  it('credentials rotate at check-in; the old one works until the new one is used, then it is refused; an unused one expires', async () => {
    const mac = await enrollMac(h, 'personal');
    const first = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [] });
    expect(first.body.credential).toBeUndefined();
    h.clock.advance(31 * DAY);
    try {
      const offered = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [] });
      const next = String(offered.body.credential);
      expect(next).toMatch(/^kwa_/);
      // The answer may be lost: the old credential still works (and is offered a fresh one).
      const lost = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [] });
      expect(lost.status).toBe(200);
      const newest = String(lost.body.credential);
      expect(newest).not.toBe(next);
      expect((await call(h.app, 'POST', '/api/v1/agent/checkin', next, { volumes: [] })).body.error?.code).toBe('credential_revoked');
      const used = await call(h.app, 'POST', '/api/v1/agent/checkin', newest, { volumes: [] });
      expect(used.status).toBe(200);
      expect(used.body.credential).toBeUndefined();
      const stale = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [] });
      expect(stale.status).toBe(401);
      expect(stale.body.error?.code).toBe('credential_revoked');
      expect(await auditActions(mac.deviceId)).toContain('agent.credential_rotated');

      const away = await enrollMac(h, 'personal');
      h.clock.advance(181 * DAY);
      const expired = await call(h.app, 'POST', '/api/v1/agent/checkin', away.credential, { volumes: [] }, { 'accept-language': 'sv' });
      expect(expired.status).toBe(401);
      expect(expired.body.error).toMatchObject({ code: 'credential_expired', message: t('sv', 'error.credential_expired') });
    } finally {
      h.clock.offsetMs = 0;
    }
  });

  it('an enrollment refused for having no encrypted volume, or with a wrong token, leaves the token usable', async () => {
    const token = await createEnrollmentToken(h.deps, { ownerId: h.people.owner.id, ownership: 'personal', label: 'laptop' });
    const enroll = (encrypted: boolean, tokenText = token) => call(h.app, 'POST', '/api/v1/agent/enroll', null, { token: tokenText, name: 'Laptop', platform: 'linux', keyKind: 'luks', volumes: [{ ref: '/dev/sda2', name: '/dev/sda2', encrypted }] });
    const plain = await enroll(false);
    expect(plain.status).toBe(400);
    expect(plain.body.error?.code).toBe('no_encrypted_volume');
    const wrong = await enroll(true, `${token}x`);
    expect(wrong.body.error).toMatchObject({ code: 'enrollment_token_invalid', message: t('en', 'error.enrollment_token_invalid') });
    expect(wrong.body.error?.message).not.toContain('sign-in');
    expect((await enroll(true)).status).toBe(201);
    expect((await enroll(true)).body.error?.code).toBe('enrollment_token_invalid');
  });

  it('the cause a device reports reaches the owner in words (their language), and IT also reads the device’s own message', async () => {
    const mac = await enrollMac(h, 'personal');
    expect((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/keys`, h.people.owner.token, { key: FV_KEY_1, confirmKey: FV_KEY_1 })).status).toBe(202);
    const [task] = await mac.checkin();
    const detail = 'cryptsetup luksDump /dev/sdz9 failed (exit 1): Device /dev/sdz9 is not a valid LUKS device.';
    expect((await mac.complete(task.operationId, { result: 'error', detail, cause: 'not_encrypted' })).status).toBe(200);
    const view = await call(h.app, 'GET', `/api/v1/devices/${mac.deviceId}`, h.people.owner.token);
    expect(view.body).toMatchObject({ keyStatus: 'failed', notice: { message: 'M3', cause: 'not_encrypted' }, operation: { failureCause: 'not_encrypted' } });

    await h.deps.db.updateTable('users').set({ locale: 'sv' }).where('id', '=', h.people.owner.id).execute();
    try {
      const ownerPage = await page(h.people.owner.id, `/devices/${mac.deviceId}`);
      expect(ownerPage.text).toContain('data-cause="not_encrypted"');
      expect(ownerPage.text).toContain(inHtml('sv', 'flow.M3.not_encrypted'));
      expect(ownerPage.text).not.toContain(inHtml('sv', 'flow.M3.device_error'));
      expect(ownerPage.text).not.toContain('not a valid LUKS device');
    } finally {
      await h.deps.db.updateTable('users').set({ locale: 'en' }).where('id', '=', h.people.owner.id).execute();
    }
    const itPage = await page(h.people.helpdesk.id, `/admin/devices/${mac.deviceId}`);
    expect(itPage.text).toContain(inHtml('en', 'flow.M3.not_encrypted'));
    expect(itPage.text).toContain('Device /dev/sdz9 is not a valid LUKS device.');
  });

  it('a task whose agent vanished right after taking it is handed out again at the next check-in', async () => {
    const mac = await enrollMac(h, 'personal');
    await mac.upload('disk1s1', FV_KEY_1);
    await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/rotate`, h.people.owner.token, {});
    const took = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [], inHand: [] });
    const [task] = took.body.tasks as { operationId: string }[];
    // The same agent, still working on it, is not given it twice.
    expect((await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [], inHand: [task.operationId] })).body.tasks).toEqual([]);
    // A restarted agent holds nothing: the task comes back at once, not after the 30 s lease.
    const restarted = await call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, { volumes: [], inHand: [] });
    expect(restarted.body.tasks).toMatchObject([{ operationId: task.operationId, currentKey: FV_KEY_1.replace(/-/g, '') }]);
    expect(await auditActions(mac.deviceId)).toContain('operation.handed_out_again');
    const escrowed = await mac.escrow(task.operationId, FV_KEY_2);
    expect((await mac.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId })).status).toBe(200);
  });

  it('a LUKS passphrase is never accepted by the Store form; the owner’s page explains the agent’s own key slot instead', async () => {
    const laptop = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name: 'Laptop', platform: 'linux', keyKind: 'luks', volumes: [{ ref: '2f0c9c0e-1111-4222-8333-444455556666', name: '/dev/nvme0n1p3' }] });
    const passphrase = 'MY-OWN-DISK-PASSPHRASE-1234567890';
    const stored = await call(h.app, 'POST', `/api/v1/devices/${laptop.deviceId}/keys`, h.people.owner.token, { key: passphrase, confirmKey: passphrase });
    expect(stored.status).toBe(400);
    expect(stored.body.error).toMatchObject({ code: 'luks_passphrase_refused', message: t('en', 'error.luks_passphrase_refused') });
    expect(await h.deps.db.selectFrom('key_versions').select('id').where('device_id', '=', laptop.deviceId).execute()).toEqual([]);
    const ownerPage = await page(h.people.owner.id, `/devices/${laptop.deviceId}`);
    expect(ownerPage.text).toContain('id="luks-store-hint"');
    expect(ownerPage.text).not.toContain('id="store-form"');
    expect(ownerPage.text).not.toContain('data-keyward-panel="store"');
  });
});
