/**
 * An IT reveal arriving while the agent completes a rotation of the same volume (PostgreSQL,
 * where they really run at once): both succeed, again and again — no "deadlock detected" 500
 * — and the reveal shows the key that was active when it ran, old or new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey, generateRecoveryKey } from '../../lib/keys/index.ts';
import { call, createHarness, enrollMac, FV_KEY_1, type Harness, type TestAgent } from './harness.ts';

describe('reveal during a rotation (postgres)', () => {
  let h: Harness;
  let mac: TestAgent;

  beforeAll(async () => {
    h = await createHarness('postgres');
    mac = await enrollMac(h, 'corporate');
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('twenty reveals racing twenty completions all succeed', async () => {
    let current = FV_KEY_1;
    for (let round = 0; round < 20; round++) {
      expect((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/rotate`, h.people.owner.token, {})).status).toBe(202);
      const task = (await mac.checkin()).find((t) => t.kind === 'rotate');
      if (!task) throw new Error(`round ${round}: no rotation handed out`);
      const next = formatRecoveryKey('filevault', generateRecoveryKey('filevault'));
      const escrowed = await mac.escrow(task.operationId, next);
      expect(escrowed.status).toBe(201);
      const [revealed, completed] = await Promise.all([
        call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.helpdesk.token, { reason: 'INC-77 locked out' }),
        mac.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId }),
      ]);
      expect([round, revealed.status, completed.status]).toEqual([round, 200, 200]);
      expect([current, next]).toContain(revealed.body.key);
      current = next;
    }
  });
});
