/**
 * Which volume a reveal without `volumeId` opens: on a device with several volumes, the first
 * by name that holds an active key; with none holding one, the answer is "no key"; on a device
 * with one volume, that volume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, FV_KEY_1, FV_KEY_2, TestAgent, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('reveal: the volume chosen without volumeId (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const twoVolumes = (name: string) =>
    TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk2s1', name: 'Archive' }, { ref: 'disk1s1', name: 'Macintosh HD' }] });
  const reveal = (deviceId: string) => call(h.app, 'POST', `/api/v1/devices/${deviceId}/reveal`, h.people.owner.token, {});

  it('opens the first volume by name that holds a key, passing over one that holds none', async () => {
    const mac = await twoVolumes('Two volumes, one key');
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    const answer = await reveal(mac.deviceId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ volumeName: 'Macintosh HD', key: FV_KEY_1 });
  });

  it('opens the first volume by name when both hold a key', async () => {
    const mac = await twoVolumes('Two volumes, two keys');
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    expect((await mac.upload('disk2s1', FV_KEY_2)).status).toBe(200);
    expect((await reveal(mac.deviceId)).body).toMatchObject({ volumeName: 'Archive', key: FV_KEY_2 });
  });

  it('answers no_key when no volume holds a key, with one volume or several', async () => {
    const several = await twoVolumes('Two volumes, no key');
    expect((await reveal(several.deviceId)).body.error?.code).toBe('no_key');
    const one = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'personal', name: 'One volume, no key', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
    const answer = await reveal(one.deviceId);
    expect(answer.status).toBe(404);
    expect(answer.body.error?.code).toBe('no_key');
  });
});
