/**
 * Several stateless service instances on one PostgreSQL database: concurrent check-ins of a
 * device through both instances hand every queued operation out exactly once
 * (`FOR UPDATE SKIP LOCKED`), and what one instance writes the other serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTask } from '../../lib/api/contract.ts';
import { call, createHarness, enrollMac, FV_KEY_1, secondInstance, TestAgent, type Harness } from './harness.ts';

describe('two service instances on PostgreSQL', () => {
  let h: Harness;
  let other: Awaited<ReturnType<typeof secondInstance>>;

  beforeAll(async () => {
    h = await createHarness('postgres');
    other = await secondInstance(h);
  });
  afterAll(async () => {
    await other?.close();
    await h?.close();
  });

  it('hands each queued operation to exactly one check-in', async () => {
    const volumes = Array.from({ length: 8 }, (_, i) => ({ ref: `vol${i}`, name: `Volume ${i}` }));
    const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Linux box', platform: 'linux', keyKind: 'filevault', volumes });
    const device = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.owner.token);
    const volumeIds = (device.body.volumes as { id: string }[]).map((v) => v.id);
    for (const volumeId of volumeIds) {
      expect((await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, h.people.owner.token, { volumeId })).status).toBe(202);
    }
    const checkin = async (app: typeof h.app) => (await call(app, 'POST', '/api/v1/agent/checkin', agent.credential, { volumes: [] })).body.tasks as AgentTask[];
    const rounds = await Promise.all([checkin(h.app), checkin(other.app), checkin(h.app), checkin(other.app), checkin(other.app), checkin(h.app)]);
    const handed = rounds.flat().map((t) => t.operationId);
    expect(new Set(handed).size).toBe(handed.length);
    expect(handed).toHaveLength(8);
  });

  it('a key stored through one instance is revealed through the other', async () => {
    const agent = await enrollMac(h, 'personal');
    expect((await agent.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    const revealed = await call(other.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.owner.token, {});
    expect(revealed.body.key).toBe(FV_KEY_1);
  });

  it('delta sync through one instance sees every change made through the other, and nothing twice once seen', async () => {
    const agent = await enrollMac(h, 'personal');
    const first = await call(h.app, 'GET', '/api/v1/devices', h.people.owner.token);
    const cursor = String(first.body.cursor);
    // Changes through the other instance, several at once and with its clock behind.
    h.clock.advance(-60_000);
    try {
      const answers = await Promise.all([
        call(other.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, h.people.owner.token, {}),
        call(other.app, 'POST', `/api/v1/devices/${agent.deviceId}/check-access`, h.people.owner.token, {}),
      ]);
      expect(answers.map((a) => a.status)).toEqual([202, 202]);
    } finally {
      h.clock.advance(60_000);
    }
    const changed = await call(h.app, 'GET', `/api/v1/devices?cursor=${cursor}`, h.people.owner.token);
    expect((changed.body.devices as { id: string }[]).map((d) => d.id)).toEqual([agent.deviceId]);
    const after = await call(other.app, 'GET', `/api/v1/devices?cursor=${String(changed.body.cursor)}`, h.people.owner.token);
    expect(after.body.devices).toEqual([]);
  });
});
