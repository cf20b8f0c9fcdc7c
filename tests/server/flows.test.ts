/**
 * The key lifecycle through the real API on both databases: store → agent verifies, escrows
 * the new key as pending, commits → notice M4 and the new key is what the owner gets; a
 * wrong key → M3 wrong_key; a silent device → M3 not_checked_in; escrow off → escrow_disabled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BL_KEY_1, BL_KEY_2, call, createHarness, FV_KEY_1, FV_KEY_2, FV_KEY_3, TestAgent, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('key lifecycle on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function personalMac(): Promise<TestAgent> {
    return TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name: 'Personal Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
  }

  it('store → verify-and-rotate → pending → active: M4, old keys retired, new key revealed', async () => {
    const agent = await personalMac();
    const { owner } = h.people;
    const before = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, owner.token);
    expect(before.body.keyStatus).toBe('missing');

    const stored = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, owner.token, { key: FV_KEY_1.toLowerCase(), confirmKey: FV_KEY_1.replace(/-/g, ' ') });
    expect(stored.status).toBe(202);
    expect(stored.body).toMatchObject({ kind: 'verify-and-rotate', state: 'queued', failureCause: null });
    const pendingView = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, owner.token);
    expect(pendingView.body.keyStatus).toBe('pending');
    expect(pendingView.body.notice).toBeNull();

    const [task] = await agent.checkin();
    expect(task).toMatchObject({ kind: 'verify-and-rotate', volumeRef: 'disk1s1', candidateKey: FV_KEY_1.replace(/-/g, ''), currentKey: null });
    const escrowed = await agent.escrow(task.operationId, FV_KEY_2);
    expect(escrowed.status).toBe(201);
    // Escrowed but not committed: still pending, and the pending key is not revealed yet.
    const midway = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, owner.token, {});
    expect(midway.status).toBe(404);
    expect(midway.body.error?.code).toBe('no_key');
    // The owner of a personal device is pointed at Store, which they can do themselves.
    expect(midway.body.error?.message).toContain('Store recovery key');

    const done = await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId });
    expect(done.status).toBe(200);
    const after = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, owner.token);
    expect(after.body).toMatchObject({ keyStatus: 'escrowed', notice: { message: 'M4', cause: null }, operation: { state: 'succeeded' } });
    const revealed = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, owner.token, {});
    expect(revealed.status).toBe(200);
    expect(revealed.body).toMatchObject({ key: FV_KEY_2, kind: 'filevault', version: 2, hideAfterSeconds: 300 });

    const states = await h.deps.db.selectFrom('key_versions').select(['version', 'state']).where('device_id', '=', agent.deviceId).orderBy('version').execute();
    expect(states.map((s) => `${s.version}:${s.state}`)).toEqual(['1:retired', '2:active']);
    // Completing twice is harmless.
    expect((await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId })).status).toBe(200);
  });

  it('a wrong key → operation failed with wrong_key, candidate rejected, notice M3 wrong_key', async () => {
    const agent = await personalMac();
    const { owner } = h.people;
    await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, owner.token, { key: FV_KEY_3, confirmKey: FV_KEY_3 });
    const [task] = await agent.checkin();
    expect((await agent.complete(task.operationId, { result: 'wrong_key' })).status).toBe(200);
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, owner.token);
    expect(view.body).toMatchObject({ keyStatus: 'failed', notice: { message: 'M3', cause: 'wrong_key' }, operation: { state: 'failed', failureCause: 'wrong_key' } });
    const states = await h.deps.db.selectFrom('key_versions').select('state').where('device_id', '=', agent.deviceId).execute();
    expect(states.map((s) => s.state)).toEqual(['rejected']);
  });

  it('an operation waiting on a device silent for longer than the threshold shows M3 not_checked_in', async () => {
    const agent = await personalMac();
    const { owner } = h.people;
    const longAgo = new Date(Date.now() - 25 * 3600_000).toISOString();
    await h.deps.db.updateTable('devices').set({ last_checkin_at: longAgo }).where('id', '=', agent.deviceId).execute();
    const stored = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, owner.token, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    expect(stored.body).toMatchObject({ state: 'queued', failureCause: 'not_checked_in' });
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, owner.token);
    expect(view.body.notice).toMatchObject({ message: 'M3', cause: 'not_checked_in' });
    // The device comes back: the work is still there and the notice clears.
    const tasks = await agent.checkin();
    expect(tasks).toHaveLength(1);
    const back = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, owner.token);
    expect(back.body.notice).toBeNull();
    expect(back.body.keyStatus).toBe('pending');
  });

  it('escrow disabled by the organisation → 403 escrow_disabled, nothing stored, notice M3 escrow_disabled', async () => {
    const agent = await personalMac();
    const { owner } = h.people;
    await h.deps.db.updateTable('devices').set({ escrow_enabled: 0 }).where('id', '=', agent.deviceId).execute();
    const res = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, owner.token, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe('escrow_disabled');
    const versions = await h.deps.db.selectFrom('key_versions').select('id').where('device_id', '=', agent.deviceId).execute();
    expect(versions).toHaveLength(0);
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, owner.token);
    expect(view.body).toMatchObject({ escrowEnabled: false, notice: { message: 'M3', cause: 'escrow_disabled' } });
  });

  it('an IT reveal of a corporate key marks it exposed and queues one rotation the agent then performs', async () => {
    const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Corp PC', platform: 'windows', keyKind: 'bitlocker', volumes: [{ ref: 'C:', name: 'C:' }, { ref: 'D:', name: 'D:' }] });
    const protector = '{11111111-2222-3333-4444-555555555555}';
    expect((await agent.upload('C:', '111111-222222-333333-444444-555555-666666-000000-123453', protector.toLowerCase())).status).toBe(200);
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.helpdesk.token);
    const c = (view.body.volumes as { name: string; protectorIds: string[]; keyStatus: string; id: string }[]).find((v) => v.name === 'C:');
    expect(c).toMatchObject({ protectorIds: [protector], keyStatus: 'escrowed' });
    const d = (view.body.volumes as { name: string; keyStatus: string }[]).find((v) => v.name === 'D:');
    expect(d?.keyStatus).toBe('missing');

    const revealed = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.helpdesk.token, { reason: 'Ticket 4711: locked out', volumeId: c?.id });
    expect(revealed.status).toBe(200);
    expect(revealed.body).toMatchObject({ key: '111111-222222-333333-444444-555555-666666-000000-123453', protectorId: protector, volumeName: 'C:' });
    await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.admin.token, { reason: 'second look', volumeId: c?.id });
    const tasks = await agent.checkin();
    expect(tasks.map((t) => `${t.kind}:${t.volumeRef}`)).toEqual(['rotate:C:']);
    expect(tasks[0].currentKey).toBe('111111222222333333444444555555666666000000123453');
    const exposed = await h.deps.db.selectFrom('key_versions').select('exposed').where('device_id', '=', agent.deviceId).executeTakeFirstOrThrow();
    expect(exposed.exposed).toBe(1);
  });

  it('BitLocker: every Numerical Password protector of a volume is escrowed and can be revealed by its ID', async () => {
    const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Two protectors', platform: 'windows', keyKind: 'bitlocker', volumes: [{ ref: 'C:', name: 'C:' }] });
    const p1 = '{AAAAAAAA-1111-2222-3333-444444444444}';
    const p2 = '{BBBBBBBB-1111-2222-3333-444444444444}';
    const res = await call(h.app, 'POST', '/api/v1/agent/protectors', agent.credential, {
      volumeRef: 'C:', protectors: [{ protectorId: p1, key: BL_KEY_1 }, { protectorId: p2, key: BL_KEY_2 }],
    });
    expect(res.body).toEqual({ stored: 2 });
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.admin.token);
    expect((view.body.volumes as { protectorIds: string[] }[])[0].protectorIds).toEqual([p1, p2]);
    const first = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.owner.token, { protectorId: p1 });
    expect(first.body).toMatchObject({ key: BL_KEY_1, protectorId: p1 });
    const newest = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.owner.token, {});
    expect(newest.body).toMatchObject({ key: BL_KEY_2, protectorId: p2 });
    // A check-in that no longer lists a protector retires its key.
    await call(h.app, 'POST', '/api/v1/agent/checkin', agent.credential, { volumes: [{ ref: 'C:', name: 'C:', encrypted: true, protectorIds: [p2.toLowerCase()] }] });
    const after = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.admin.token);
    expect((after.body.volumes as { protectorIds: string[] }[])[0].protectorIds).toEqual([p2]);
  });

  it('a store retried with the same idempotency key queues one operation, not two', async () => {
    const agent = await personalMac();
    const body = { key: FV_KEY_1, confirmKey: FV_KEY_1, idempotencyKey: 'outbox-entry-0001' };
    const first = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, h.people.owner.token, body);
    const second = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, h.people.owner.token, body);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const candidates = await h.deps.db.selectFrom('key_versions').select('id').where('device_id', '=', agent.deviceId).execute();
    expect(candidates).toHaveLength(1);
  });

  it('reveals done offline from the vault are written to the audit log once, when reported', async () => {
    const agent = await personalMac();
    await agent.upload('disk1s1', FV_KEY_1);
    // The vault holds only what was revealed online: the owner views the key, then again offline.
    const online = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.owner.token, {});
    expect(online.status).toBe(200);
    const report = { reveals: [{ deviceId: agent.deviceId, volumeId: String(online.body.volumeId), version: Number(online.body.version), at: new Date().toISOString(), idempotencyKey: 'offline-reveal-0001' }] };
    const first = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, report);
    expect(first.body).toEqual({ recorded: 1, duplicates: 0 });
    const again = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, report);
    expect(again.body).toEqual({ recorded: 0, duplicates: 1 });
    const audit = await call(h.app, 'GET', `/api/v1/audit?deviceId=${agent.deviceId}`, h.people.owner.token);
    expect((audit.body.events as { action: string }[]).filter((e) => e.action === 'key.revealed_offline')).toHaveLength(1);
    const foreign = await call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.other.token, { reveals: [{ ...report.reveals[0], idempotencyKey: 'offline-reveal-0002' }] });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({ code: 'offline_reveal_invalid', field: 'reveals.0.deviceId' });
  });

  it('an agent that crashed mid-rotation gets the task again after the lease, and no escrowed key is lost meanwhile', async () => {
    const agent = await personalMac();
    await agent.upload('disk1s1', FV_KEY_1);
    await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, h.people.owner.token, {});
    const [task] = await agent.checkin();
    const pending = await agent.escrow(task.operationId, FV_KEY_2);
    expect(pending.status).toBe(201);
    // The agent dies here. Until the lease runs out, the work is not handed out twice.
    expect(await agent.checkin()).toEqual([]);
    const leaseAgo = new Date(Date.now() - 31_000).toISOString();
    await h.deps.db.updateTable('operations').set({ claimed_at: leaseAgo }).where('id', '=', task.operationId).execute();
    const [again] = await agent.checkin();
    expect(again).toMatchObject({ operationId: task.operationId, currentKey: FV_KEY_1.replace(/-/g, '') });
    // The old key is still what the owner gets, and the pending one is kept.
    expect((await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.owner.token, {})).body.key).toBe(FV_KEY_1);
    const states = await h.deps.db.selectFrom('key_versions').select(['version', 'state']).where('device_id', '=', agent.deviceId).orderBy('version').execute();
    expect(states.map((r) => `${r.version}:${r.state}`)).toEqual(['1:active', '2:pending']);
    expect((await agent.complete(again.operationId, { result: 'ok', keyVersionId: pending.body.keyVersionId })).status).toBe(200);
    expect((await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.owner.token, {})).body.key).toBe(FV_KEY_2);
  });

  it('two requests waiting for one volume are handed out one check-in after the other, each with the key then on the disk', async () => {
    const agent = await personalMac();
    await agent.upload('disk1s1', FV_KEY_1);
    await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, h.people.owner.token, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, h.people.owner.token, {});
    // The first rotation replaces the key; a second task computed now would carry a stale one.
    const first = await agent.checkin();
    expect(first.map((t) => t.kind)).toEqual(['verify-and-rotate']);
    const escrowed = await agent.escrow(first[0].operationId, FV_KEY_2);
    expect((await agent.complete(first[0].operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId })).status).toBe(200);
    const second = await agent.checkin();
    expect(second).toMatchObject([{ kind: 'rotate', currentKey: FV_KEY_2.replace(/-/g, '') }]);
  });

  it('delta sync: a cursor returns only devices changed since, and a change moves it on', async () => {
    const agent = await personalMac();
    const { owner } = h.people;
    const full = await call(h.app, 'GET', '/api/v1/devices', owner.token);
    const cursor = String(full.body.cursor);
    expect((full.body.devices as { id: string }[]).some((d) => d.id === agent.deviceId)).toBe(true);
    const none = await call(h.app, 'GET', `/api/v1/devices?cursor=${encodeURIComponent(cursor)}`, owner.token);
    expect(none.body.devices).toEqual([]);
    expect(none.body.cursor).toBe(cursor);
    // In the same millisecond as the answer: the cursor is a change number, not a time.
    h.clock.advance(-1_000);
    await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, owner.token, {});
    const changed = await call(h.app, 'GET', `/api/v1/devices?cursor=${encodeURIComponent(cursor)}`, owner.token);
    expect((changed.body.devices as { id: string }[]).map((d) => d.id)).toEqual([agent.deviceId]);
    expect(Number(changed.body.cursor)).toBeGreaterThan(Number(cursor));
    h.clock.advance(1_000);
  });
});
