/**
 * Retries that arrive at the same time (an extension's outbox or an agent resending after a
 * timeout) get the answer the first one got, never a 500 and never a second record: the same
 * idempotency key stores one candidate and one operation; an offline-reveal report is audited
 * once; a repeated check-in adds a new volume once; the same completion twice is `succeeded`
 * both times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, enrollMac, FV_KEY_1, FV_KEY_2, FV_KEY_3, type Harness, type TestAgent } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('concurrent retries (%s)', (kind) => {
  let h: Harness;
  let mac: TestAgent;

  beforeAll(async () => {
    h = await createHarness(kind);
    mac = await enrollMac(h, 'corporate');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the same store sent three times at once queues one operation and answers it three times', async () => {
    const body = { key: FV_KEY_1, confirmKey: FV_KEY_1, idempotencyKey: 'outbox-entry-0001' };
    const answers = await Promise.all([1, 2, 3].map(() => call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/keys`, h.people.owner.token, body)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const candidates = await h.deps.db.selectFrom('key_versions').select('state').where('device_id', '=', mac.deviceId).execute();
    expect(candidates.map((c) => c.state)).toEqual(['candidate']);
  });

  it('the same offline-reveal report sent twice at once is recorded once', async () => {
    expect((await mac.upload('disk1s1', FV_KEY_3)).status).toBe(200);
    const online = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {});
    expect(online.status).toBe(200);
    const report = { reveals: [{ deviceId: mac.deviceId, volumeId: String(online.body.volumeId), version: Number(online.body.version), at: new Date().toISOString(), idempotencyKey: 'offline-0001' }] };
    const answers = await Promise.all([1, 2].map(() => call(h.app, 'POST', '/api/v1/audit/offline-reveals', h.people.owner.token, report)));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.body.recorded).sort()).toEqual([0, 1]);
    const events = await h.deps.db.selectFrom('audit_events').select('seq').where('action', '=', 'key.revealed_offline').execute();
    expect(events).toHaveLength(1);
  });

  it('the same completion sent twice at once succeeds both times and the key is active', async () => {
    const [task] = await mac.checkin();
    const escrowed = await mac.escrow(task.operationId, FV_KEY_2);
    expect(escrowed.status).toBe(201);
    const done = await Promise.all([1, 2].map(() => mac.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId })));
    expect(done.map((d) => [d.status, d.body.state])).toEqual([[200, 'succeeded'], [200, 'succeeded']]);
    const revealed = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {});
    expect(revealed.body.key).toBe(FV_KEY_2);
  });

  it('a check-in repeated at once that lists a new volume adds it once, and both answer', async () => {
    const body = { volumes: [{ ref: 'disk3s1', name: 'Backup', encrypted: true }] };
    const answers = await Promise.all([1, 2, 3].map(() => call(h.app, 'POST', '/api/v1/agent/checkin', mac.credential, body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const volumes = await h.deps.db.selectFrom('volumes').select('id').where('device_id', '=', mac.deviceId).where('ref', '=', 'disk3s1').execute();
    expect(volumes).toHaveLength(1);
  });
});
