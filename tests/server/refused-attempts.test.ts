/**
 * Refused attempts leave a trace (issue #6, finding 4): every reveal, rotation or store the
 * access rules refuse — through the API or the portal — writes exactly one audit event (who,
 * which device and volume, the reason typed, the refusal code) and nothing of the refused
 * request's own work. Refusals count per actor per minute like reveals: past the limit the
 * answer is 429 and nothing is written, and the number held back is written once, as one
 * summary event per actor and window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, FV_KEY_1, FV_KEY_2, portalLogin, postForm, TestAgent, type FormCredentials, type Harness } from './harness.ts';

type Snapshot = { seq: number; keyVersions: number; operations: number; exposed: number; idempotency: number };

async function snapshot(h: Harness): Promise<Snapshot> {
  const db = h.deps.db;
  // The newest event written (on PostgreSQL the chain's head row follows a moment after commit).
  const head = await db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirstOrThrow();
  const count = async (q: Promise<unknown[]>) => (await q).length;
  return {
    seq: Number(head.seq ?? 0),
    keyVersions: await count(db.selectFrom('key_versions').select('id').execute()),
    operations: await count(db.selectFrom('operations').select('id').execute()),
    exposed: await count(db.selectFrom('key_versions').select('id').where('exposed', '=', 1).execute()),
    idempotency: await count(db.selectFrom('idempotency').select('key').execute()),
  };
}

/** Events written since the snapshot, oldest first, with their detail parsed. */
async function eventsSince(h: Harness, before: Snapshot) {
  const rows = await h.deps.db.selectFrom('audit_events').selectAll().where('seq', '>', before.seq).orderBy('seq').execute();
  return rows.map((r) => ({ action: r.action, actorId: r.actor_id, deviceId: r.device_id, volumeId: r.volume_id, ip: r.ip, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}

async function enroll(h: Harness, ownership: 'corporate' | 'personal', name: string): Promise<{ agent: TestAgent; volumeId: string }> {
  const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership, name, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
  expect((await agent.upload('disk1s1', FV_KEY_1)).status).toBe(200);
  const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.owner.token);
  return { agent, volumeId: (view.body.volumes as { id: string }[])[0].id };
}

describe.each(['sqlite', 'postgres'] as const)('refused attempts are audited (%s)', (kind) => {
  let h: Harness;
  let corporate: { agent: TestAgent; volumeId: string };
  let personal: { agent: TestAgent; volumeId: string };
  const forms = {} as Record<'owner' | 'other' | 'helpdesk', FormCredentials>;

  beforeAll(async () => {
    h = await createHarness(kind);
    corporate = await enroll(h, 'corporate', 'Corporate Mac');
    personal = await enroll(h, 'personal', 'Personal Mac');
    for (const who of ['owner', 'other', 'helpdesk'] as const) forms[who] = await portalLogin(h, h.people[who].id);
  });
  afterAll(async () => {
    await h?.close();
  });

  type Attempt = {
    name: string;
    send: () => Promise<number>;
    status: number;
    action: string;
    actor: 'other' | 'helpdesk';
    device: () => string;
    volume: () => string | null;
    code: string;
    reason: string | null;
  };

  const api = (method: string, path: () => string, token: () => string, body: () => unknown) => async () => (await call(h.app, method, path(), token(), body())).status;
  const form = (path: () => string, who: 'other' | 'helpdesk', fields: () => Record<string, string>) => async () => (await postForm(h.app, path(), forms[who], fields())).status;

  const attempts: Attempt[] = [
    {
      name: 'API: IT reveals a personal device’s key',
      send: api('POST', () => `/api/v1/devices/${personal.agent.deviceId}/reveal`, () => h.people.helpdesk.token, () => ({ reason: '  INC-88 laptop left in a taxi  ', volumeId: personal.volumeId })),
      status: 403, action: 'key.reveal_refused', actor: 'helpdesk', device: () => personal.agent.deviceId, volume: () => personal.volumeId, code: 'personal_device', reason: 'INC-88 laptop left in a taxi',
    },
    {
      name: 'API: IT reveals a corporate key without a reason',
      send: api('POST', () => `/api/v1/devices/${corporate.agent.deviceId}/reveal`, () => h.people.helpdesk.token, () => ({})),
      status: 400, action: 'key.reveal_refused', actor: 'helpdesk', device: () => corporate.agent.deviceId, volume: () => null, code: 'reason_required', reason: null,
    },
    {
      name: 'API: IT reveals a corporate key with a too short reason',
      send: api('POST', () => `/api/v1/devices/${corporate.agent.deviceId}/reveal`, () => h.people.helpdesk.token, () => ({ reason: ' ab ' })),
      status: 400, action: 'key.reveal_refused', actor: 'helpdesk', device: () => corporate.agent.deviceId, volume: () => null, code: 'reason_too_short', reason: 'ab',
    },
    {
      name: 'API: another user reveals the owner’s key (a volume that is not the device’s is not recorded)',
      send: api('POST', () => `/api/v1/devices/${corporate.agent.deviceId}/reveal`, () => h.people.other.token, () => ({ volumeId: 'made-up-volume' })),
      status: 404, action: 'key.reveal_refused', actor: 'other', device: () => corporate.agent.deviceId, volume: () => null, code: 'not_found', reason: null,
    },
    {
      name: 'API: another user asks for a rotation',
      send: api('POST', () => `/api/v1/devices/${corporate.agent.deviceId}/rotate`, () => h.people.other.token, () => ({ volumeId: corporate.volumeId })),
      status: 404, action: 'rotation.refused', actor: 'other', device: () => corporate.agent.deviceId, volume: () => corporate.volumeId, code: 'not_found', reason: null,
    },
    {
      name: 'API: IT stores a key',
      send: api('POST', () => `/api/v1/devices/${corporate.agent.deviceId}/keys`, () => h.people.helpdesk.token, () => ({ key: FV_KEY_2, confirmKey: FV_KEY_2, idempotencyKey: 'it-store-0001' })),
      status: 403, action: 'key.store_refused', actor: 'helpdesk', device: () => corporate.agent.deviceId, volume: () => null, code: 'forbidden', reason: null,
    },
    {
      name: 'API: another user stores a key',
      send: api('POST', () => `/api/v1/devices/${personal.agent.deviceId}/keys`, () => h.people.other.token, () => ({ key: FV_KEY_2, confirmKey: FV_KEY_2 })),
      status: 404, action: 'key.store_refused', actor: 'other', device: () => personal.agent.deviceId, volume: () => null, code: 'not_found', reason: null,
    },
    {
      name: 'admin console: IT views a personal device’s key',
      send: form(() => `/admin/devices/${personal.agent.deviceId}/reveal`, 'helpdesk', () => ({ target: personal.volumeId, reason: 'INC-90 user asked' })),
      status: 403, action: 'key.reveal_refused', actor: 'helpdesk', device: () => personal.agent.deviceId, volume: () => personal.volumeId, code: 'personal_device', reason: 'INC-90 user asked',
    },
    {
      name: 'admin console: IT views a corporate key with a blank reason',
      send: form(() => `/admin/devices/${corporate.agent.deviceId}/reveal`, 'helpdesk', () => ({ target: corporate.volumeId, reason: '   ' })),
      status: 400, action: 'key.reveal_refused', actor: 'helpdesk', device: () => corporate.agent.deviceId, volume: () => corporate.volumeId, code: 'reason_required', reason: null,
    },
    {
      name: 'portal: another user asks for a rotation',
      send: form(() => `/devices/${personal.agent.deviceId}/rotate`, 'other', () => ({})),
      status: 404, action: 'rotation.refused', actor: 'other', device: () => personal.agent.deviceId, volume: () => null, code: 'not_found', reason: null,
    },
    {
      name: 'portal: IT submits the store form',
      send: form(() => `/devices/${corporate.agent.deviceId}/keys`, 'helpdesk', () => ({ key: FV_KEY_2, confirmKey: FV_KEY_2 })),
      status: 403, action: 'key.store_refused', actor: 'helpdesk', device: () => corporate.agent.deviceId, volume: () => null, code: 'forbidden', reason: null,
    },
  ];

  it.each(attempts)('$name → $status, one `$action` event ($code) and nothing else written', async (a) => {
    const before = await snapshot(h);
    expect(await a.send()).toBe(a.status);
    const events = await eventsSince(h, before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: a.action, actorId: h.people[a.actor].id, deviceId: a.device(), volumeId: a.volume() });
    expect(events[0].detail).toEqual({ code: a.code, role: a.actor === 'helpdesk' ? 'helpdesk' : 'user', reason: a.reason });
    const after = await snapshot(h);
    expect({ ...after, seq: before.seq }).toEqual(before);
  });

  it('a long reason is kept trimmed and cut to 200 characters', async () => {
    const before = await snapshot(h);
    const reason = `  ${'x'.repeat(150)}${'😀'.repeat(100)}  `;
    expect((await call(h.app, 'POST', `/api/v1/devices/${personal.agent.deviceId}/reveal`, h.people.admin.token, { reason })).status).toBe(403);
    const [event] = await eventsSince(h, before);
    expect(event.detail.reason).toBe(`${'x'.repeat(150)}${'😀'.repeat(50)}…`);
  });

  it('a device that does not exist is a 404 with no event (there is nothing to attach it to)', async () => {
    const before = await snapshot(h);
    expect((await call(h.app, 'POST', '/api/v1/devices/00000000-0000-0000-0000-000000000000/reveal', h.people.helpdesk.token, { reason: 'INC-1 who knows' })).status).toBe(404);
    expect(await snapshot(h)).toEqual(before);
  });

  it('an admin finds the refusals with the action filter; the owner sees them on their device', async () => {
    const admin = await call(h.app, 'GET', `/api/v1/audit?action=key.reveal_refused&deviceId=${personal.agent.deviceId}`, h.people.admin.token);
    expect((admin.body.events as { detail: { code: string } }[]).map((e) => e.detail.code)).toContain('personal_device');
    const owner = await call(h.app, 'GET', `/api/v1/audit?deviceId=${personal.agent.deviceId}&actorId=${h.people.helpdesk.id}`, h.people.owner.token);
    expect((owner.body.events as { action: string }[]).map((e) => e.action)).toContain('key.reveal_refused');
  });
});

describe.each(['sqlite', 'postgres'] as const)('refusals cannot flood the log (%s)', (kind) => {
  let h: Harness;
  let mac: TestAgent;
  const LIMIT = 3;
  // Refusals are throttled like requests, with back-off up to an hour: past it every count starts again.
  const PAST_BACK_OFF_MS = 3_601_000;
  // Limit windows are aligned to the clock: start each burst just after a minute begins, so no
  // window ends in the middle of it (the test clock runs with real time).
  const atStartOfMinute = () => h.clock.advance(60_000 - (h.clock.now().getTime() % 60_000) + 50);

  beforeAll(async () => {
    // Tokens outlive the hours of back-off the tests wait through.
    h = await createHarness(kind, { rateLimits: { loginPerMinute: 10, revealPerMinute: LIMIT }, accessTokenSeconds: 8 * 3600 });
    mac = (await enroll(h, 'corporate', 'Mac')).agent;
  });
  afterAll(async () => {
    await h?.close();
  });

  const rotateAsOther = async () => (await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/rotate`, h.people.other.token, {})).status;

  it('past the limit refusals are answered 429 and not written; the number held back is written once, when the window is over', async () => {
    atStartOfMinute();
    const before = await snapshot(h);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push(await rotateAsOther());
    expect(statuses).toEqual([...Array(LIMIT).fill(404), ...Array(40 - LIMIT).fill(429)]);
    const inWindow = await eventsSince(h, before);
    expect(inWindow.map((e) => e.action)).toEqual(Array(LIMIT).fill('rotation.refused'));
    expect(await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/rotate`, h.people.other.token, {})).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });

    h.clock.advance(PAST_BACK_OFF_MS);
    const next = await snapshot(h);
    expect(await rotateAsOther()).toBe(404);
    const events = await eventsSince(h, next);
    expect(events.map((e) => e.action)).toEqual(['access.refusals_suppressed', 'rotation.refused']);
    expect(events[0]).toMatchObject({ actorId: h.people.other.id, deviceId: null });
    expect(events[0].detail).toMatchObject({ count: 41 - LIMIT, perMinute: LIMIT });
    expect(await snapshot(h)).toMatchObject({ operations: before.operations });
  });

  it('one summary per actor and window, written with the next refusal anyone makes', async () => {
    h.clock.advance(PAST_BACK_OFF_MS);
    atStartOfMinute();
    for (let i = 0; i < 10; i++) await rotateAsOther();
    h.clock.advance(PAST_BACK_OFF_MS);
    const before = await snapshot(h);
    // IT's refusal in a later window also writes the other user's held-back count.
    expect((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/keys`, h.people.helpdesk.token, { key: FV_KEY_2, confirmKey: FV_KEY_2 })).status).toBe(403);
    const events = await eventsSince(h, before);
    expect(events.map((e) => [e.action, e.actorId])).toEqual([['access.refusals_suppressed', h.people.other.id], ['key.store_refused', h.people.helpdesk.id]]);
    expect(events[0].detail.count).toBe(10 - LIMIT);
    // Nothing is held back any more: the next refusal writes only itself.
    const after = await snapshot(h);
    expect(await rotateAsOther()).toBe(404);
    expect((await eventsSince(h, after)).map((e) => e.action)).toEqual(['rotation.refused']);
  });

  it('a store refused because escrow is off counts too: past the limit it is 429 and writes no operation', async () => {
    h.clock.advance(PAST_BACK_OFF_MS);
    atStartOfMinute();
    await h.deps.db.updateTable('org').set({ escrow_enabled: 0 }).execute();
    try {
      const before = await snapshot(h);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/keys`, h.people.owner.token, { key: FV_KEY_2, confirmKey: FV_KEY_2 })).status);
      expect(statuses).toEqual([...Array(LIMIT).fill(403), ...Array(6 - LIMIT).fill(429)]);
      const after = await snapshot(h);
      expect(after.operations - before.operations).toBe(LIMIT);
      expect((await eventsSince(h, before)).map((e) => e.detail.cause)).toEqual(Array(LIMIT).fill('escrow_disabled'));
    } finally {
      await h.deps.db.updateTable('org').set({ escrow_enabled: 1 }).execute();
    }
  });
});
