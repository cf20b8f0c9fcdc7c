/**
 * Retention of finished operations: old succeeded/failed operations are deleted in batches,
 * open ones and each volume's newest are kept, so device pages and statuses read the same
 * before and after; the pruning is audited.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneFinishedOperations } from '../../server/services/retention.ts';
import { call, createHarness, tokensFor, enrollMac, FV_KEY_1, FV_KEY_2, FV_KEY_3, type Harness, type TestAgent } from './harness.ts';

const DAY = 86_400_000;

describe.each(['sqlite', 'postgres'] as const)('finished operations retention (%s)', (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness(kind);
  });
  afterEach(async () => {
    await h.close();
  });

  async function rotateOnce(agent: TestAgent, key: string): Promise<void> {
    expect((await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, h.people.owner.token, {})).status).toBe(202);
    const [task] = await agent.checkin();
    const escrowed = await agent.escrow(task.operationId, key);
    expect((await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId })).status).toBe(200);
  }

  const operationsOf = (deviceId: string) => h.deps.db.selectFrom('operations').select(['id', 'state']).where('device_id', '=', deviceId).orderBy('created_at').execute();

  it('deletes old finished operations but keeps open ones and each volume\'s newest, so the device reads the same', async () => {
    const busy = await enrollMac(h, 'personal');
    const quiet = await enrollMac(h, 'corporate');
    for (const agent of [busy, quiet]) expect((await agent.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    await rotateOnce(busy, FV_KEY_2);
    await rotateOnce(busy, FV_KEY_3);
    await rotateOnce(quiet, FV_KEY_2);
    // Still waiting: never pruned, however old.
    expect((await call(h.app, 'POST', `/api/v1/devices/${busy.deviceId}/rotate`, h.people.owner.token, {})).status).toBe(202);
    const open = (await operationsOf(busy.deviceId)).at(-1);
    expect(open?.state).toBe('queued');
    const quietNewest = (await operationsOf(quiet.deviceId)).at(-1);

    const total = async () => (await h.deps.db.selectFrom('operations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const countBefore = Number(await total());
    h.clock.advance(91 * DAY);
    const token = (await tokensFor(h.app, h.deps, h.people.owner.id)).access_token;
    const view = async (id: string) => (await call(h.app, 'GET', `/api/v1/devices/${id}`, token)).body;
    const before = [await view(busy.deviceId), await view(quiet.deviceId)];
    // Within the period nothing goes.
    expect(await pruneFinishedOperations(h.deps, 365)).toBe(0);
    const pruned = await pruneFinishedOperations(h.deps, 90);
    expect(pruned).toBe(countBefore - 2);
    expect(pruned).toBeGreaterThanOrEqual(2);
    expect(await operationsOf(busy.deviceId)).toEqual([open]);
    expect(await operationsOf(quiet.deviceId)).toEqual([quietNewest]);
    expect([await view(busy.deviceId), await view(quiet.deviceId)]).toEqual(before);

    const event = await h.deps.db.selectFrom('audit_events').select(['actor_kind', 'detail']).where('action', '=', 'operations.pruned').executeTakeFirstOrThrow();
    expect(event.actor_kind).toBe('system');
    expect(JSON.parse(event.detail)).toMatchObject({ count: pruned });
    expect(await pruneFinishedOperations(h.deps, 90)).toBe(0);
  });

  it('a store retried after the period is a new store (its idempotency record went with the history)', async () => {
    const agent = await enrollMac(h, 'personal');
    let token = h.people.owner.token;
    const store = () => call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, token, { key: FV_KEY_1, confirmKey: FV_KEY_1, idempotencyKey: 'retry-after-months' });
    const first = await store();
    expect((await store()).body.id).toBe(first.body.id);
    h.clock.advance(91 * DAY);
    await pruneFinishedOperations(h.deps, 90);
    token = (await tokensFor(h.app, h.deps, h.people.owner.id)).access_token;
    const later = await store();
    expect(later.status).toBe(202);
    expect(later.body.id).not.toBe(first.body.id);
  });
});
