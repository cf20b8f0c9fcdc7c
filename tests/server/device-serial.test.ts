/**
 * A device's hardware serial number: stored at enrollment, updated at check-in when the device
 * reports another one (audited with the old and new serial, and carried by delta sync), kept
 * when the agent reports none, refused with a 4xx in the caller's language when it is not a
 * serial number (nothing written), and shown to the owner on their device page.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Device } from '../../lib/api/contract.ts';
import { t } from '../../lib/i18n/index.ts';
import { createEnrollmentToken } from '../../server/services/agent-enroll.ts';
import { listDirectory } from '../../server/services/device-directory.ts';
import { call, createHarness, portalLogin, TestAgent, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('device serial number (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const enroll = (name: string, serialNumber?: string) =>
    TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }], serialNumber });

  async function storedSerial(deviceId: string): Promise<string | null> {
    const row = await h.deps.db.selectFrom('devices').select('serial_number').where('id', '=', deviceId).executeTakeFirstOrThrow();
    return row.serial_number ?? null;
  }

  async function auditOf(deviceId: string, action: string): Promise<Record<string, unknown>[]> {
    const rows = await h.deps.db.selectFrom('audit_events').select('detail').where('device_id', '=', deviceId).where('action', '=', action).orderBy('seq').execute();
    return rows.map((r) => JSON.parse(r.detail) as Record<string, unknown>);
  }

  it('enrollment stores the serial number and names it in the audit event; the device view carries it', async () => {
    const agent = await enroll('Serial Mac', 'C02XK0ABJGH5');
    expect(await storedSerial(agent.deviceId)).toBe('C02XK0ABJGH5');
    expect(await auditOf(agent.deviceId, 'device.enrolled')).toEqual([expect.objectContaining({ serialNumber: 'C02XK0ABJGH5' })]);
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.owner.token);
    expect(Device.parse(view.body).serialNumber).toBe('C02XK0ABJGH5');
  });

  it('an agent that cannot read the serial number enrolls without one', async () => {
    const agent = await enroll('VM without serial');
    expect(await storedSerial(agent.deviceId)).toBeNull();
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.owner.token);
    expect(Device.parse(view.body).serialNumber).toBeNull();
  });

  it('check-in records a new serial number once (audited from → to, seen by delta sync) and keeps it when none is reported', async () => {
    const agent = await enroll('Board swap', 'C02OLD00001');
    const cursor = String((await call(h.app, 'GET', '/api/v1/devices', h.people.owner.token)).body.cursor);
    await agent.checkin({ serialNumber: 'C02NEW00002' });
    expect(await storedSerial(agent.deviceId)).toBe('C02NEW00002');
    expect(await auditOf(agent.deviceId, 'device.serial_changed')).toEqual([{ from: 'C02OLD00001', to: 'C02NEW00002' }]);
    const changed = await call(h.app, 'GET', `/api/v1/devices?cursor=${encodeURIComponent(cursor)}`, h.people.owner.token);
    expect(z.array(Device).parse(changed.body.devices).map((d) => [d.id, d.serialNumber])).toEqual([[agent.deviceId, 'C02NEW00002']]);

    await agent.checkin({ serialNumber: 'C02NEW00002' });
    await agent.checkin();
    expect(await storedSerial(agent.deviceId)).toBe('C02NEW00002');
    expect(await auditOf(agent.deviceId, 'device.serial_changed')).toHaveLength(1);
  });

  it('the first serial number of a device enrolled without one is recorded and audited without a "from"', async () => {
    const agent = await enroll('Older agent');
    await agent.checkin({ serialNumber: 'PF3ABCDE' });
    expect(await storedSerial(agent.deviceId)).toBe('PF3ABCDE');
    expect(await auditOf(agent.deviceId, 'device.serial_changed')).toEqual([{ to: 'PF3ABCDE' }]);
  });

  it.each([
    ['a control character', 'C02\u0007XK0'],
    ['non-ASCII', 'C02XK0ÄBJGH5'],
    ['a space at the start', ' C02XK0'],
    ['empty', ''],
    ['65 characters', 'S'.repeat(65)],
    ['a number', 12345],
  ])('a serial number with %s is refused at enrollment and check-in; nothing is written', async (_what, bad) => {
    const token = await createEnrollmentToken(h.deps, { ownerId: h.people.owner.id, ownership: 'corporate', label: 'bad serial' });
    const devicesBefore = Number((await h.deps.db.selectFrom('devices').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
    const refused = await call(h.app, 'POST', '/api/v1/agent/enroll', null, {
      token, name: 'Bad serial', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true }], serialNumber: bad,
    }, { 'accept-language': 'sv-SE,sv;q=0.9' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toEqual({ code: 'invalid_input', message: t('sv', 'error.invalid_input'), field: 'serialNumber' });
    expect(Number((await h.deps.db.selectFrom('devices').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n)).toBe(devicesBefore);
    const unused = await h.deps.db.selectFrom('enrollment_tokens').select('used_at').where('label', '=', 'bad serial').where('used_at', 'is not', null).execute();
    expect(unused).toEqual([]);

    const agent = await enroll('Good serial', 'GOOD-0001');
    const before = await h.deps.db.selectFrom('devices').select(['serial_number', 'last_checkin_at', 'updated_at']).where('id', '=', agent.deviceId).executeTakeFirstOrThrow();
    h.clock.advance(60_000);
    const checkin = await call(h.app, 'POST', '/api/v1/agent/checkin', agent.credential, { volumes: [], serialNumber: bad }, { 'accept-language': 'ja' });
    expect(checkin.status).toBe(400);
    expect(checkin.body.error).toEqual({ code: 'invalid_input', message: t('ja', 'error.invalid_input'), field: 'serialNumber' });
    expect(await h.deps.db.selectFrom('devices').select(['serial_number', 'last_checkin_at', 'updated_at']).where('id', '=', agent.deviceId).executeTakeFirstOrThrow()).toEqual(before);
    expect(await auditOf(agent.deviceId, 'device.serial_changed')).toEqual([]);
  });

  it('a serial number with a space inside (virtual machines have them) is taken as it is', async () => {
    const agent = await enroll('VMware guest', 'VMware-56 4d 2b 1f 89 7a 3c 4e-a8 1b 9c 7d 2e 5f 6a 1b');
    expect(await storedSerial(agent.deviceId)).toBe('VMware-56 4d 2b 1f 89 7a 3c 4e-a8 1b 9c 7d 2e 5f 6a 1b');
  });

  it('a serial prefix matches byte by byte, punctuation included, whatever the database\'s collation', async () => {
    for (const serial of ['ZQ-C1', 'ZQC2', 'ZQ.3', 'zq-c4']) await enroll(`Prefix ${serial}`, serial);
    // Sorted here: the page's order is by name, in the database's own collation.
    const serials = async (q: string) => (await listDirectory(h.deps, { q })).devices.map((d) => d.serialNumber ?? '').sort();
    expect(await serials('zq-')).toEqual(['ZQ-C1', 'zq-c4']);
    expect(await serials('ZQ.')).toEqual(['ZQ.3']);
    expect(await serials('zqc')).toEqual(['ZQC2']);
    expect(await serials('zq')).toEqual(['ZQ-C1', 'ZQ.3', 'ZQC2', 'zq-c4']);
    if (kind === 'postgres') {
      const column = await sql<{ collation_name: string | null }>`select collation_name from information_schema.columns where table_schema = current_schema() and table_name = 'devices' and column_name = 'serial_search'`.execute(h.deps.db);
      expect(column.rows).toEqual([{ collation_name: 'C' }]);
    }
  });

  it('the owner sees the serial number on their device page, or that the device has not reported one', async () => {
    const withSerial = await enroll('Owner page', 'C02OWNER01');
    const without = await enroll('Owner page, no serial');
    const owner = await portalLogin(h, h.people.owner.id);
    const page = async (id: string) => (await h.app.request(`/devices/${id}`, { headers: { cookie: owner.cookie, 'accept-language': 'en' } })).text();
    expect(await page(withSerial.deviceId)).toContain('<td id="serial-number">C02OWNER01</td>');
    expect(await page(without.deviceId)).toContain(t('en', 'portal.serial_unknown'));
  });
});
