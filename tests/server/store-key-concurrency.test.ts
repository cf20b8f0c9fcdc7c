/**
 * A key stored again at the moment the device checks in (PostgreSQL, where the two really run
 * at once): an operation the check-in has just handed to the agent is never failed as
 * "superseded" behind the agent's back — the agent's escrow of the new key is accepted (for
 * FileVault the Mac has already replaced its key by then, so a refusal would lose it) — and the
 * newer key waits as its own operation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTask } from '../../lib/api/contract.ts';
import { call, createHarness, FV_KEY_1, FV_KEY_2, FV_KEY_3, TestAgent, type Harness } from './harness.ts';

describe('store during a check-in (postgres)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('postgres');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('an operation handed out is never superseded; the newer key is queued behind it', async () => {
    let handedOut = 0;
    for (let round = 0; round < 15; round++) {
      const mac = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name: `Mac ${round}`, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
      const store = (key: string) => call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/keys`, h.people.owner.token, { key, confirmKey: key });
      expect((await store(FV_KEY_1)).status).toBe(202);
      const [tasks, again] = await Promise.all([mac.checkin(), store(FV_KEY_2)]);
      expect(again.status).toBe(202);
      const task = tasks.find((t: AgentTask) => t.kind === 'verify-and-rotate');
      if (!task) continue;
      handedOut += 1;
      const escrowed = await mac.escrow(task.operationId, FV_KEY_3);
      expect([round, escrowed.status]).toEqual([round, 201]);
      const ops = await h.deps.db.selectFrom('operations').select(['id', 'state']).where('device_id', '=', mac.deviceId).orderBy('created_at').execute();
      expect(ops.find((o) => o.id === task.operationId)?.state).toBe('in_progress');
      expect(ops.filter((o) => o.state === 'queued')).toHaveLength(task.candidateKey === FV_KEY_1.replaceAll('-', '') ? 1 : 0);
    }
    expect(handedOut).toBeGreaterThan(0);
  });
});
