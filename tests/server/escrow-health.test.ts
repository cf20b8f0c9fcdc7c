/**
 * Continuous proof of escrow, service side, on both databases: the cheap check an agent sends
 * at check-in and the full check (the agent fetches the escrowed key, audited, and says whether
 * it opens the volume) make a volume whose key no longer works show as such to IT and to the
 * owner from that check-in on, with what to do; a working key clears it; full checks are asked
 * for on the policy's interval.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { t } from '../../lib/i18n/index.ts';
import { BL_KEY_1, BL_KEY_2, call, createHarness, portalLogin, TestAgent, tokensFor, type Harness } from './harness.ts';

const UUID = '7d4bd0a8-5b7e-4c61-9d0e-0f3b5a3c2e11';
const HOUR = 3_600_000;

describe.each(['sqlite', 'postgres'] as const)('escrow health (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function laptop(): Promise<{ agent: TestAgent; key: string }> {
    const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Laptop', platform: 'linux', keyKind: 'luks', volumes: [{ ref: UUID, name: '/dev/nvme0n1p3' }] });
    const key = generateRecoveryKey('luks');
    expect((await agent.upload(UUID, key)).status).toBe(200);
    return { agent, key };
  }

  const checkin = (agent: TestAgent, escrowCheck?: { state: 'ok' | 'broken'; problem?: string }) =>
    call(h.app, 'POST', '/api/v1/agent/checkin', agent.credential, { volumes: [{ ref: UUID, name: '/dev/nvme0n1p3', encrypted: true, ...(escrowCheck ? { escrowCheck } : {}) }], inHand: [] });

  async function volume(agent: TestAgent): Promise<{ keyStatus: string; escrowProblem: string | null; keyVerifiedAt: string | null }> {
    // A fresh token: the tests move the clock past an access token's life.
    const { access_token: token } = await tokensFor(h.app, h.deps, h.people.owner.id);
    const view = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, token);
    return (view.body.volumes as { keyStatus: string; escrowProblem: string | null; keyVerifiedAt: string | null }[])[0];
  }

  async function actions(agent: TestAgent): Promise<string[]> {
    return (await h.deps.db.selectFrom('audit_events').select('action').where('device_id', '=', agent.deviceId).orderBy('seq').execute()).map((e) => e.action);
  }

  it('a removed escrow key slot shows as "Escrowed key no longer works" from the check-in that reports it, with the repair to run; an intact slot clears it', async () => {
    const { agent } = await laptop();
    expect((await volume(agent)).keyStatus).toBe('escrowed');
    expect((await checkin(agent, { state: 'broken', problem: 'slot_removed' })).status).toBe(200);
    expect(await volume(agent)).toMatchObject({ keyStatus: 'broken', escrowProblem: 'slot_removed' });
    const device = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.helpdesk.token);
    expect(device.body.keyStatus).toBe('broken');

    for (const [who, path] of [[h.people.helpdesk.id, `/admin/devices/${agent.deviceId}`], [h.people.owner.id, `/devices/${agent.deviceId}`], [h.people.helpdesk.id, '/admin/devices']] as const) {
      const { cookie } = await portalLogin(h, who);
      const html = await (await h.app.request(path, { headers: { cookie } })).text();
      expect(html).toContain('data-key-status="broken"');
      expect(html).toContain(t('en', 'ui.status.broken'));
      if (path !== '/admin/devices') {
        expect(html).toContain('data-escrow-problem="slot_removed"');
        expect(html).toContain('sudo keyward-agent repair');
      }
    }
    await checkin(agent, { state: 'ok' });
    expect(await volume(agent)).toMatchObject({ keyStatus: 'escrowed', escrowProblem: null });
    expect(await actions(agent)).toEqual(expect.arrayContaining(['key.escrow_broken', 'key.escrow_restored']));
  });

  it('the full check: the escrowed key is fetched (audited as a device verification) on the policy interval; a key that no longer opens the volume stays broken until a check proves one works', async () => {
    const { agent, key } = await laptop();
    // The upload came from the disk, so it was just proved: no full check is due yet.
    expect((await checkin(agent)).body.verifyVolumes).toEqual([]);
    h.clock.advance(h.deps.config.keyCheckHours * HOUR + 60_000);
    try {
      expect((await checkin(agent)).body.verifyVolumes).toEqual([UUID]);
      const fetched = await call(h.app, 'POST', '/api/v1/agent/verification/key', agent.credential, { volumeRef: UUID });
      expect(fetched.status).toBe(200);
      expect(fetched.body.key).toBe(key);
      expect((await actions(agent)).filter((a) => a === 'key.device_verification')).toHaveLength(1);

      const result = (works: boolean, keyVersionId = String(fetched.body.keyVersionId)) => call(h.app, 'POST', '/api/v1/agent/verification/result', agent.credential, { volumeRef: UUID, keyVersionId, works });
      expect((await result(false)).body.state).toBe('broken');
      expect(await volume(agent)).toMatchObject({ keyStatus: 'broken', escrowProblem: 'key_rejected' });
      // Checked now: not asked again at once; and an intact slot does not hide a key that failed.
      const next = await checkin(agent, { state: 'ok' });
      expect(next.body.verifyVolumes).toEqual([]);
      expect((await volume(agent)).escrowProblem).toBe('key_rejected');
      expect((await result(true, 'some-older-version')).body.state).toBe('stale');
      expect((await volume(agent)).escrowProblem).toBe('key_rejected');
      expect((await result(true)).body.state).toBe('ok');
      expect(await volume(agent)).toMatchObject({ keyStatus: 'escrowed', escrowProblem: null, keyVerifiedAt: expect.any(String) });
    } finally {
      h.clock.offsetMs = 0;
    }
  });

  it('an agent can only fetch or report on its own volumes', async () => {
    const { agent } = await laptop();
    const other = await TestAgent.enroll(h, { owner: h.people.other, ownership: 'personal', name: 'Other', platform: 'linux', keyKind: 'luks', volumes: [{ ref: 'another-uuid', name: '/dev/sda2' }] });
    expect((await call(h.app, 'POST', '/api/v1/agent/verification/key', other.credential, { volumeRef: UUID })).status).toBe(404);
    expect((await call(h.app, 'POST', '/api/v1/agent/operations', other.credential, { volumeRef: UUID, purpose: 'repair' })).status).toBe(404);
    expect((await volume(agent)).keyStatus).toBe('escrowed');
  });

  it('BitLocker: a recovery password added on the device after the escrowed one was removed is escrowed at that check-in; a volume never escrowed is left for IT', async () => {
    const pc = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'PC', platform: 'windows', keyKind: 'bitlocker', volumes: [{ ref: 'C:', name: 'C:' }, { ref: 'D:', name: 'D:' }] });
    const [idA, idB, idD] = ['{AAAAAAAA-1111-4222-8333-444444444444}', '{BBBBBBBB-1111-4222-8333-444444444444}', '{DDDDDDDD-1111-4222-8333-444444444444}'];
    expect((await pc.upload('C:', BL_KEY_1, idA)).status).toBe(200);
    const report = (c: string[]) => call(h.app, 'POST', '/api/v1/agent/checkin', pc.credential, { volumes: [{ ref: 'C:', name: 'C:', encrypted: true, protectorIds: c }, { ref: 'D:', name: 'D:', encrypted: true, protectorIds: [idD] }], inHand: [] });
    expect((await report([idA])).body.tasks).toEqual([]);
    const after = await report([idB]);
    expect(after.body.tasks).toMatchObject([{ kind: 'upload', volumeRef: 'C:' }]);
    expect((await pc.upload('C:', BL_KEY_2, idB)).status).toBe(200);
    const { access_token: token } = await tokensFor(h.app, h.deps, h.people.admin.id);
    const view = await call(h.app, 'GET', `/api/v1/devices/${pc.deviceId}`, token);
    const volumes = view.body.volumes as { name: string; keyStatus: string; protectorIds: string[] }[];
    expect(volumes.find((v) => v.name === 'C:')).toMatchObject({ keyStatus: 'escrowed', protectorIds: [idB] });
    expect(volumes.find((v) => v.name === 'D:')).toMatchObject({ keyStatus: 'missing', protectorIds: [] });
  });
});
