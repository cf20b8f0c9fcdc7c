/**
 * Who may see what (DESIGN.md › People): every caller × corporate/personal device × action,
 * with the exact status and error code the service answers. The extension and portal only
 * reflect these answers, so this table is the rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, FV_KEY_1, FV_KEY_2, TestAgent, type Harness } from './harness.ts';

type Caller = 'owner' | 'other' | 'helpdesk' | 'admin' | 'agent';
type Ownership = 'corporate' | 'personal';
type Action = 'view' | 'list' | 'reveal' | 'store' | 'rotate' | 'audit';
type Expect = { status: number; code?: string };

const MATRIX: Record<Caller, Record<Ownership, Record<Action, Expect>>> = {
  owner: {
    corporate: { view: { status: 200 }, list: { status: 200 }, reveal: { status: 200 }, store: { status: 202 }, rotate: { status: 202 }, audit: { status: 200 } },
    personal: { view: { status: 200 }, list: { status: 200 }, reveal: { status: 200 }, store: { status: 202 }, rotate: { status: 202 }, audit: { status: 200 } },
  },
  other: {
    corporate: { view: { status: 404, code: 'not_found' }, list: { status: 200 }, reveal: { status: 404, code: 'not_found' }, store: { status: 404, code: 'not_found' }, rotate: { status: 404, code: 'not_found' }, audit: { status: 200 } },
    personal: { view: { status: 404, code: 'not_found' }, list: { status: 200 }, reveal: { status: 404, code: 'not_found' }, store: { status: 404, code: 'not_found' }, rotate: { status: 404, code: 'not_found' }, audit: { status: 200 } },
  },
  helpdesk: {
    corporate: { view: { status: 200 }, list: { status: 200 }, reveal: { status: 200 }, store: { status: 403, code: 'forbidden' }, rotate: { status: 202 }, audit: { status: 403, code: 'forbidden' } },
    personal: { view: { status: 200 }, list: { status: 200 }, reveal: { status: 403, code: 'personal_device' }, store: { status: 403, code: 'forbidden' }, rotate: { status: 202 }, audit: { status: 403, code: 'forbidden' } },
  },
  admin: {
    corporate: { view: { status: 200 }, list: { status: 200 }, reveal: { status: 200 }, store: { status: 403, code: 'forbidden' }, rotate: { status: 202 }, audit: { status: 200 } },
    personal: { view: { status: 200 }, list: { status: 200 }, reveal: { status: 403, code: 'personal_device' }, store: { status: 403, code: 'forbidden' }, rotate: { status: 202 }, audit: { status: 200 } },
  },
  agent: {
    corporate: { view: { status: 401, code: 'unauthenticated' }, list: { status: 401, code: 'unauthenticated' }, reveal: { status: 401, code: 'unauthenticated' }, store: { status: 401, code: 'unauthenticated' }, rotate: { status: 401, code: 'unauthenticated' }, audit: { status: 401, code: 'unauthenticated' } },
    personal: { view: { status: 401, code: 'unauthenticated' }, list: { status: 401, code: 'unauthenticated' }, reveal: { status: 401, code: 'unauthenticated' }, store: { status: 401, code: 'unauthenticated' }, rotate: { status: 401, code: 'unauthenticated' }, audit: { status: 401, code: 'unauthenticated' } },
  },
};

/** Whether the device shows up in the caller's list (IT lists with `scope=all`). */
const LISTED: Record<Caller, boolean> = { owner: true, other: false, helpdesk: true, admin: true, agent: false };

/** Whether the device's events are in the audit log the caller reads (the whole log is the admins'). */
const AUDIT_SHOWN: Record<Caller, boolean> = { owner: true, other: false, helpdesk: false, admin: true, agent: false };

describe.each(['sqlite', 'postgres'] as const)('who may see what (%s)', (kind) => {
  let h: Harness;
  const devices = {} as Record<Ownership, TestAgent>;
  let outsider: TestAgent;

  beforeAll(async () => {
    h = await createHarness(kind);
    for (const ownership of ['corporate', 'personal'] as const) {
      devices[ownership] = await TestAgent.enroll(h, { owner: h.people.owner, ownership, name: `${ownership} mac`, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
      expect((await devices[ownership].upload('disk1s1', FV_KEY_1)).status).toBe(200);
    }
    outsider = await TestAgent.enroll(h, { owner: h.people.other, ownership: 'corporate', name: 'outsider', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
  });
  afterAll(async () => {
    await h?.close();
  });

  function tokenOf(caller: Caller): string {
    return caller === 'agent' ? outsider.credential : h.people[caller].token;
  }

  const cases = (Object.keys(MATRIX) as Caller[]).flatMap((caller) =>
    (['corporate', 'personal'] as const).flatMap((ownership) => (Object.keys(MATRIX[caller][ownership]) as Action[]).map((action) => ({ caller, ownership, action, expected: MATRIX[caller][ownership][action] }))),
  );

  it.each(cases)('$caller × $ownership × $action → $expected.status $expected.code', async ({ caller, ownership, action, expected }) => {
    const id = devices[ownership].deviceId;
    const token = tokenOf(caller);
    const it = caller === 'helpdesk' || caller === 'admin';
    const res =
      action === 'view' ? await call(h.app, 'GET', `/api/v1/devices/${id}`, token)
      : action === 'list' ? await call(h.app, 'GET', `/api/v1/devices${it ? '?scope=all' : ''}`, token)
      : action === 'reveal' ? await call(h.app, 'POST', `/api/v1/devices/${id}/reveal`, token, { reason: 'Ticket 1234: user locked out' })
      : action === 'store' ? await call(h.app, 'POST', `/api/v1/devices/${id}/keys`, token, { key: FV_KEY_2, confirmKey: FV_KEY_2 })
      : action === 'audit' ? await call(h.app, 'GET', `/api/v1/audit?deviceId=${id}`, token)
      : await call(h.app, 'POST', `/api/v1/devices/${id}/rotate`, token, {});
    expect(res.status).toBe(expected.status);
    expect(res.body.error?.code).toBe(expected.code);
    if (action === 'reveal' && res.status === 200) expect(res.body.key).toBe(FV_KEY_1);
    if (action === 'list' && res.status === 200) {
      const ids = (res.body.devices as { id: string }[]).map((d) => d.id);
      expect(ids.includes(id)).toBe(LISTED[caller]);
    }
    if (action === 'audit' && res.status === 200) {
      const events = res.body.events as { deviceId: string | null }[];
      expect(events.some((e) => e.deviceId === id)).toBe(AUDIT_SHOWN[caller]);
      expect(events.every((e) => e.deviceId === id)).toBe(true);
    }
  });

  it('IT must give a reason to view a corporate key', async () => {
    const res = await call(h.app, 'POST', `/api/v1/devices/${devices.corporate.deviceId}/reveal`, h.people.helpdesk.token, {});
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('reason_required');
  });

  it('an ordinary user cannot list every device', async () => {
    const res = await call(h.app, 'GET', '/api/v1/devices?scope=all', h.people.owner.token);
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe('forbidden');
  });

  it("an agent cannot touch another device's operations", async () => {
    const op = await call(h.app, 'POST', `/api/v1/devices/${devices.personal.deviceId}/rotate`, h.people.owner.token, {});
    const operationId = String(op.body.id);
    const escrow = await outsider.escrow(operationId, FV_KEY_2);
    expect(escrow.status).toBe(404);
    expect(escrow.body.error?.code).toBe('not_found');
    const complete = await outsider.complete(operationId, { result: 'wrong_key' });
    expect(complete.status).toBe(404);
    const state = await h.deps.db.selectFrom('operations').select('state').where('id', '=', operationId).executeTakeFirstOrThrow();
    expect(state.state).toBe('queued');
  });

  it('helpdesk may not read the audit log, with or without a device, and is told in its language that it is for admins', async () => {
    const whole = await call(h.app, 'GET', '/api/v1/audit', h.people.helpdesk.token);
    expect(whole.status).toBe(403);
    expect(whole.body.error).toEqual({ code: 'forbidden', message: 'Only admins can see the audit log. If you need to know what happened on a device, ask an admin of your organisation.' });
    expect(whole.body.events).toBeUndefined();
    const swedish = await call(h.app, 'GET', `/api/v1/audit?deviceId=${devices.corporate.deviceId}`, h.people.helpdesk.token, undefined, { 'accept-language': 'sv' });
    expect(swedish.status).toBe(403);
    expect(swedish.body.error?.message).toBe('Endast administratörer kan se granskningsloggen. Om du behöver veta vad som har hänt på en enhet kan du fråga en administratör i din organisation.');
  });

  it('an admin reads the whole audit log: every device, whoever owns it', async () => {
    const res = await call(h.app, 'GET', '/api/v1/audit', h.people.admin.token);
    expect(res.status).toBe(200);
    const deviceIds = new Set((res.body.events as { deviceId: string | null }[]).map((e) => e.deviceId));
    for (const device of [devices.corporate, devices.personal, outsider]) expect(deviceIds.has(device.deviceId)).toBe(true);
  });

  it('IT reveals are audited with their reason; every reveal names who and why', async () => {
    const res = await call(h.app, 'GET', `/api/v1/audit?deviceId=${devices.corporate.deviceId}`, h.people.admin.token);
    const reveals = (res.body.events as { action: string; actorId: string; detail: { reason?: string } }[]).filter((e) => e.action === 'key.revealed');
    expect(reveals.some((e) => e.actorId === h.people.helpdesk.id && e.detail.reason === 'Ticket 1234: user locked out')).toBe(true);
    const mine = await call(h.app, 'GET', '/api/v1/audit', h.people.other.token);
    expect((mine.body.events as { deviceId: string }[]).every((e) => e.deviceId === outsider.deviceId)).toBe(true);
  });
});
