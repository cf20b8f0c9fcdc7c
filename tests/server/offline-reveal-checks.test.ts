/**
 * Offline-reveal reports are believed only when they match a key the reporter really had
 * cached (issue #6, finding 2): the extension's vault holds only keys its user revealed online,
 * so an entry must name a device, volume and key version that belong together, that the
 * reporter revealed online before, at a time between then and now. A revealer flooding the log
 * with made-up entries to push their reveal out of sight gets 400s, writes nothing, and the
 * reveal with its reason stays on the first page of `action=key.revealed`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFLINE_REVEALS_PER_REPORT, type AuditEvent } from '../../lib/api/contract.ts';
import { call, createHarness, FV_KEY_1, TestAgent, type Harness } from './harness.ts';

type Entry = { deviceId: string; volumeId: string; version: number; at: string; idempotencyKey: string };

async function corporateMac(h: Harness, name: string): Promise<{ agent: TestAgent; volumeId: string }> {
  const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
  expect((await agent.upload('disk1s1', FV_KEY_1)).status).toBe(200);
  const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.owner.token);
  return { agent, volumeId: (view.body.volumes as { id: string }[])[0].id };
}

async function offlineEvents(h: Harness): Promise<number> {
  return (await h.deps.db.selectFrom('audit_events').select('seq').where('action', '=', 'key.revealed_offline').execute()).length;
}

describe.each(['sqlite', 'postgres'] as const)('offline-reveal reports are checked (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const now = () => h.clock.now().getTime();
  const iso = (ms: number) => new Date(ms).toISOString();

  it('~500 made-up entries are refused, and the real reveal with its reason stays on the first page and is reached by paging', async () => {
    const { agent, volumeId } = await corporateMac(h, 'Finance Mac');
    const reason = 'INC-4711 user locked out at the airport';
    const revealed = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.helpdesk.token, { reason });
    expect(revealed.status).toBe(200);
    const countBefore = (await h.deps.db.selectFrom('audit_events').select('seq').execute()).length;

    // The revealer reports 500 offline reveals of the device that never happened (volumes, versions and times made up).
    for (let report = 0; report < 5; report++) {
      const reveals: Entry[] = Array.from({ length: 100 }, (_, i) => ({
        deviceId: agent.deviceId,
        volumeId: i % 2 ? volumeId : randomUUID(),
        version: i % 2 ? 2 + i : 1,
        at: iso(now() - (i + 1) * 3_600_000),
        idempotencyKey: randomUUID(),
      }));
      const res = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.helpdesk.token, { reveals });
      expect(res.status).toBe(400);
      expect(res.body.error?.code).toBe('offline_reveal_invalid');
      expect(res.body.error?.field).toMatch(/^reveals\.0\.(volumeId|version|at)$/);
    }
    // More entries than a report may carry are refused as they are.
    const oversized = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.helpdesk.token, {
      reveals: Array.from({ length: OFFLINE_REVEALS_PER_REPORT + 1 }, () => ({ deviceId: agent.deviceId, volumeId, version: 1, at: iso(now()), idempotencyKey: randomUUID() })),
    });
    expect(oversized.status).toBe(400);
    expect(oversized.body.error).toMatchObject({ code: 'invalid_input', field: 'reveals' });

    expect((await h.deps.db.selectFrom('audit_events').select('seq').execute()).length).toBe(countBefore);
    expect(await offlineEvents(h)).toBe(0);

    const isTheReveal = (e: AuditEvent) => e.action === 'key.revealed' && e.deviceId === agent.deviceId && e.actorId === h.people.helpdesk.id && e.detail.reason === reason;
    const firstPage = await call(h.app, 'GET', '/api/v1/audit?action=key.revealed', h.people.admin.token);
    expect((firstPage.body.events as AuditEvent[]).some(isTheReveal)).toBe(true);
    let before: number | null = null;
    let found = false;
    for (let page = 0; page < 100 && !found; page++) {
      const res = await call(h.app, 'GET', `/api/v1/audit?limit=20${before === null ? '' : `&before=${before}`}`, h.people.admin.token);
      found = (res.body.events as AuditEvent[]).some(isTheReveal);
      before = res.body.nextCursor as number | null;
      if (before === null) break;
    }
    expect(found).toBe(true);
  });

  describe('an entry that does not match a key revealed online refuses the whole report, naming it', () => {
    let device: { agent: TestAgent; volumeId: string };
    let otherDevice: { agent: TestAgent; volumeId: string };
    let personal: TestAgent;
    let firstRevealMs = 0;
    let valid: () => Entry;

    beforeAll(async () => {
      device = await corporateMac(h, 'Sales Mac');
      otherDevice = await corporateMac(h, 'Lab Mac');
      personal = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name: 'Home Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
      await personal.upload('disk1s1', FV_KEY_1);
      // The owner revealed the Sales Mac's key online an hour ago; IT never did.
      h.clock.advance(-3_600_000);
      try {
        const online = await call(h.app, 'POST', `/api/v1/devices/${device.agent.deviceId}/reveal`, h.people.owner.token, {});
        expect(online.body.version).toBe(1);
        firstRevealMs = Date.parse(String(online.body.revealedAt));
      } finally {
        h.clock.advance(3_600_000);
      }
      valid = () => ({ deviceId: device.agent.deviceId, volumeId: device.volumeId, version: 1, at: iso(now() - 60_000), idempotencyKey: randomUUID() });
    });

    type Case = { name: string; caller: 'owner' | 'helpdesk' | 'other'; entry: () => Partial<Entry>; code: string; field: keyof Entry };
    const cases: Case[] = [
      { name: 'a device that does not exist', caller: 'owner', entry: () => ({ deviceId: randomUUID() }), code: 'offline_reveal_invalid', field: 'deviceId' },
      { name: 'a device the reporter may not reveal (IT, personal device)', caller: 'helpdesk', entry: () => ({ deviceId: personal.deviceId }), code: 'offline_reveal_invalid', field: 'deviceId' },
      { name: 'another user’s device', caller: 'other', entry: () => ({}), code: 'offline_reveal_invalid', field: 'deviceId' },
      { name: 'a volume of another device', caller: 'owner', entry: () => ({ volumeId: otherDevice.volumeId }), code: 'offline_reveal_invalid', field: 'volumeId' },
      { name: 'a key version that does not exist', caller: 'owner', entry: () => ({ version: 7 }), code: 'offline_reveal_invalid', field: 'version' },
      { name: 'a key the reporter never revealed online', caller: 'helpdesk', entry: () => ({}), code: 'offline_reveal_invalid', field: 'version' },
      { name: 'a key revealed online on another device only', caller: 'owner', entry: () => ({ deviceId: otherDevice.agent.deviceId, volumeId: otherDevice.volumeId }), code: 'offline_reveal_invalid', field: 'version' },
      { name: 'a time in the future', caller: 'owner', entry: () => ({ at: iso(now() + 10 * 60_000) }), code: 'offline_reveal_invalid', field: 'at' },
      { name: 'a time before the key was first revealed', caller: 'owner', entry: () => ({ at: iso(firstRevealMs - 10 * 60_000) }), code: 'offline_reveal_invalid', field: 'at' },
      { name: 'a time that is not a date', caller: 'owner', entry: () => ({ at: 'yesterday' }), code: 'invalid_input', field: 'at' },
      { name: 'a day that does not exist', caller: 'owner', entry: () => ({ at: '2026-02-30T10:00:00Z' }), code: 'invalid_input', field: 'at' },
    ];

    it.each(cases)('$name → 400 $code (field $field), and nothing of the report is recorded', async ({ caller, entry, code, field }) => {
      const bad = { ...valid(), ...entry() };
      // The owner's report leads with an entry that matches: it is not recorded either.
      const reveals = caller === 'owner' ? [valid(), bad] : [bad];
      const res = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people[caller].token, { reveals });
      expect(res.status).toBe(400);
      expect(res.body.error?.code).toBe(code);
      expect(res.body.error?.field).toBe(`reveals.${reveals.length - 1}.${field}`);
      expect(res.body.error?.message).toMatch(/\S/);
      expect(await offlineEvents(h)).toBe(0);
    });

    it('the message says which entry, in the reporter’s language', async () => {
      const res = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, { reveals: [valid(), valid(), { ...valid(), version: 9 }] }, { 'accept-language': 'sv' });
      expect(res.body.error?.field).toBe('reveals.2.version');
      expect(res.body.error?.message).toContain('Offlinevisning 3');
    });

    it('a matching report is recorded once (retries are duplicates), within a few minutes of clock skew either way', async () => {
      const report = { reveals: [valid(), { ...valid(), at: iso(now() + 2 * 60_000) }, { ...valid(), at: iso(firstRevealMs - 2 * 60_000) }] };
      const first = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, report);
      expect(first.body).toEqual({ recorded: 3, duplicates: 0 });
      const again = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, report);
      expect(again.body).toEqual({ recorded: 0, duplicates: 3 });
      const events = await call(h.app, 'GET', `/api/v1/audit?action=key.revealed_offline&deviceId=${device.agent.deviceId}`, h.people.admin.token);
      expect((events.body.events as AuditEvent[]).map((e) => [e.actorId, e.volumeId, e.detail.version])).toEqual(Array(3).fill([h.people.owner.id, device.volumeId, 1]));
    });
  });
});

describe('offline-reveal reports are rate limited per user', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sqlite', { rateLimits: { loginPerMinute: 10, revealPerMinute: 3 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('past the limit a report is answered 429 and nothing is checked or written; a minute later it is taken again', async () => {
    const { agent, volumeId } = await corporateMac(h, 'Mac');
    expect((await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.owner.token, {})).status).toBe(200);
    const report = () => ({ reveals: [{ deviceId: agent.deviceId, volumeId, version: 1, at: h.clock.now().toISOString(), idempotencyKey: randomUUID() }] });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, report())).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(await offlineEvents(h)).toBe(3);
    // Another user has a budget of their own.
    expect((await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.other.token, { reveals: [] })).status).toBe(200);
    h.clock.advance(61_000);
    const later = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, report());
    expect(later.body).toEqual({ recorded: 1, duplicates: 0 });
  });
});
