/**
 * A BitLocker rotation on both databases: the agent learns the new Numerical Password
 * protector's ID only after adding it on the disk and sends it with the completion. IT then
 * sees that ID on the volume and can reveal the password by it; a malformed ID is refused
 * with nothing changed, and an ID already given at escrow is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTask } from '../../lib/api/contract.ts';
import { BL_KEY_1, BL_KEY_2, BL_KEY_3, call, createHarness, TestAgent, type Harness } from './harness.ts';

const OLD_PROTECTOR = '{AAAAAAAA-1111-2222-3333-444444444444}';
const NEW_PROTECTOR = '{C0FFEE00-ABCD-4EF0-9876-0123456789AB}';

type VolumeView = { id: string; name: string; protectorIds: string[]; keyStatus: string; activeVersion: number | null };

describe.each(['sqlite', 'postgres'] as const)('BitLocker rotation with the protector ID on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function volumes(deviceId: string): Promise<VolumeView[]> {
    const view = await call(h.app, 'GET', `/api/v1/devices/${deviceId}`, h.people.admin.token);
    expect(view.status).toBe(200);
    return view.body.volumes as VolumeView[];
  }

  /** A corporate PC whose C: has one escrowed protector, and an IT rotation of C: claimed by the agent. */
  async function rotationClaimed(name: string): Promise<{ agent: TestAgent; c: VolumeView; task: AgentTask }> {
    const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name, platform: 'windows', keyKind: 'bitlocker', volumes: [{ ref: 'C:', name: 'C:' }, { ref: 'D:', name: 'D:' }] });
    expect((await agent.upload('C:', BL_KEY_1, OLD_PROTECTOR)).status).toBe(200);
    const c = (await volumes(agent.deviceId)).find((v) => v.name === 'C:');
    if (!c) throw new Error('volume C: is missing');
    expect((await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, h.people.helpdesk.token, { volumeId: c.id })).status).toBe(202);
    const [task] = await agent.checkin();
    expect(task).toMatchObject({ kind: 'rotate', volumeRef: 'C:' });
    return { agent, c, task };
  }

  it('a completion carrying the new protector ID → IT sees it on the volume and reveals the new password by it', async () => {
    const { agent, c, task } = await rotationClaimed('PC with a rotated password');
    const escrowed = await agent.escrow(task.operationId, BL_KEY_2);
    expect(escrowed.status).toBe(201);
    // manage-bde prints the ID in any case; the service stores the canonical form.
    const done = await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId, protectorId: NEW_PROTECTOR.toLowerCase() });
    expect(done.status).toBe(200);

    const after = await volumes(agent.deviceId);
    expect(after.find((v) => v.name === 'C:')).toMatchObject({ protectorIds: [NEW_PROTECTOR], keyStatus: 'escrowed', activeVersion: 2 });
    expect(after.find((v) => v.name === 'D:')).toMatchObject({ protectorIds: [], keyStatus: 'missing' });

    const revealed = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.admin.token, { volumeId: c.id, protectorId: NEW_PROTECTOR, reason: 'Ticket 5120: BitLocker recovery screen' });
    expect(revealed.status).toBe(200);
    expect(revealed.body).toMatchObject({ key: BL_KEY_2, protectorId: NEW_PROTECTOR, version: 2, volumeName: 'C:' });
    // The old protector's password was retired with the rotation.
    const old = await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.admin.token, { volumeId: c.id, protectorId: OLD_PROTECTOR, reason: 'Ticket 5121' });
    expect(old.status).toBe(404);
    expect(old.body.error?.code).toBe('no_key');
  });

  it('a second Numerical Password on the volume stays escrowed through a rotation of the first, until a check-in no longer lists it', async () => {
    const SECOND = '{DDDDDDDD-1111-2222-3333-444444444444}';
    const agent = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'PC with two passwords', platform: 'windows', keyKind: 'bitlocker', volumes: [{ ref: 'C:', name: 'C:' }] });
    expect((await agent.upload('C:', BL_KEY_3, SECOND)).status).toBe(200);
    expect((await agent.upload('C:', BL_KEY_1, OLD_PROTECTOR)).status).toBe(200);
    const [c] = await volumes(agent.deviceId);
    expect(c.protectorIds.sort()).toEqual([OLD_PROTECTOR, SECOND].sort());
    expect((await call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, h.people.helpdesk.token, { volumeId: c.id })).status).toBe(202);
    const [task] = await agent.checkin();
    // The agent rotates with the password it was handed and removes only that protector.
    expect(task.currentKey).toBe(BL_KEY_1.replaceAll('-', ''));
    const escrowed = await agent.escrow(task.operationId, BL_KEY_2);
    expect((await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId, protectorId: NEW_PROTECTOR })).status).toBe(200);

    expect((await volumes(agent.deviceId))[0].protectorIds.sort()).toEqual([NEW_PROTECTOR, SECOND].sort());
    const reveal = (protectorId: string) => call(h.app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, h.people.admin.token, { volumeId: c.id, protectorId, reason: 'Ticket 5130' });
    expect((await reveal(SECOND)).body.key).toBe(BL_KEY_3);
    expect((await reveal(OLD_PROTECTOR)).status).toBe(404);

    // The disk still has both; later the second one is deleted on the PC and the check-in says so.
    const report = (protectorIds: string[]) => call(h.app, 'POST', '/api/v1/agent/checkin', agent.credential, { volumes: [{ ref: 'C:', name: 'C:', encrypted: true, protectorIds }] });
    expect((await report([NEW_PROTECTOR, SECOND])).status).toBe(200);
    expect((await volumes(agent.deviceId))[0].protectorIds.sort()).toEqual([NEW_PROTECTOR, SECOND].sort());
    expect((await report([NEW_PROTECTOR])).status).toBe(200);
    expect((await volumes(agent.deviceId))[0].protectorIds).toEqual([NEW_PROTECTOR]);
  });

  it('a malformed protector ID → 400 invalid_input and the operation, keys and device view stay as they were', async () => {
    const { agent, task } = await rotationClaimed('PC with a garbled protector ID');
    const escrowed = await agent.escrow(task.operationId, BL_KEY_2);
    const keysBefore = await h.deps.db.selectFrom('key_versions').select(['version', 'state', 'protector_id']).where('device_id', '=', agent.deviceId).orderBy('version').execute();
    const viewBefore = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.admin.token);

    const refused = await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId, protectorId: 'Numerical Password 1' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_input', field: 'protectorId' });
    expect(refused.body.error?.message).not.toBe('');

    const op = await h.deps.db.selectFrom('operations').select(['state', 'failure_cause']).where('id', '=', task.operationId).executeTakeFirstOrThrow();
    expect(op).toEqual({ state: 'in_progress', failure_cause: null });
    const keysAfter = await h.deps.db.selectFrom('key_versions').select(['version', 'state', 'protector_id']).where('device_id', '=', agent.deviceId).orderBy('version').execute();
    expect(keysAfter).toEqual(keysBefore);
    expect(keysAfter.map((k) => `${k.version}:${k.state}:${k.protector_id}`)).toEqual([`1:active:${OLD_PROTECTOR}`, '2:pending:null']);
    const viewAfter = await call(h.app, 'GET', `/api/v1/devices/${agent.deviceId}`, h.people.admin.token);
    expect(viewAfter.body).toEqual(viewBefore.body);
    expect(viewAfter.body).toMatchObject({ operation: { state: 'in_progress' }, notice: null });
    expect((viewAfter.body.volumes as VolumeView[]).find((v) => v.name === 'C:')).toMatchObject({ keyStatus: 'pending', protectorIds: [OLD_PROTECTOR], activeVersion: 1 });
  });

  it('a protector ID given at escrow is kept when the completion names another', async () => {
    const { agent, task } = await rotationClaimed('PC that knew its protector early');
    const escrowed = await agent.escrow(task.operationId, BL_KEY_2, NEW_PROTECTOR.toLowerCase());
    expect(escrowed.status).toBe(201);
    const other = '{BBBBBBBB-1111-2222-3333-444444444444}';
    expect((await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId, protectorId: other })).status).toBe(200);
    expect((await volumes(agent.deviceId)).find((v) => v.name === 'C:')?.protectorIds).toEqual([NEW_PROTECTOR]);
  });
});
