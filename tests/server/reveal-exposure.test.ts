/**
 * Who makes a key "exposed" (README › Guards; services/reveal-key.ts): an owner viewing the
 * key of their own device does not — nothing is marked, no rotation is queued, the reveal is
 * audited — while an IT reveal under `rotateAfterReveal` (on by default) marks the key exposed
 * and queues one rotation for the device's agent. On SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, enrollMac, FV_KEY_1, type Harness, type TestAgent } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('reveal and exposure on %s', (kind) => {
  let h: Harness;
  let mac: TestAgent;

  beforeAll(async () => {
    h = await createHarness(kind);
    mac = await enrollMac(h, 'corporate');
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  const exposed = async () => (await h.deps.db.selectFrom('key_versions').select('exposed').where('device_id', '=', mac.deviceId).where('state', '=', 'active').executeTakeFirstOrThrow()).exposed;
  const queued = async () => (await h.deps.db.selectFrom('operations').select('kind').where('device_id', '=', mac.deviceId).where('state', '=', 'queued').execute()).map((o) => o.kind);
  const revealEvents = async () =>
    (await h.deps.db.selectFrom('audit_events').select(['actor_id', 'detail']).where('action', '=', 'key.revealed').where('device_id', '=', mac.deviceId).orderBy('seq').execute())
      .map((e) => ({ actor: e.actor_id, byIt: (JSON.parse(e.detail) as { byIt: boolean }).byIt }));

  it("the owner viewing their own device's key marks nothing exposed and queues no rotation, and it is audited", async () => {
    const revealed = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {});
    expect(revealed.body.key).toBe(FV_KEY_1);
    expect(await exposed()).toBe(0);
    expect(await queued()).toEqual([]);
    expect(await mac.checkin()).toEqual([]);
    expect(await revealEvents()).toEqual([{ actor: h.people.owner.id, byIt: false }]);
  });

  it('an IT reveal of the same key marks it exposed and queues one rotation for the agent', async () => {
    const revealed = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.helpdesk.token, { reason: 'INC-88 user locked out' });
    expect(revealed.body.key).toBe(FV_KEY_1);
    expect(await exposed()).toBe(1);
    expect(await queued()).toEqual(['rotate']);
    expect((await mac.checkin()).map((t) => t.kind)).toEqual(['rotate']);
    expect((await revealEvents()).at(-1)).toEqual({ actor: h.people.helpdesk.id, byIt: true });
  });
});
