/**
 * The device page tells one current story, on both databases: its live part (GET
 * /devices/:id/live, fetched again by the page's script) follows the latest operation — a new
 * store replaces an earlier M3 with "Saving…", then M4 without a reload and without the
 * "Saving" line above it; M4 says what happened (store, owner's rotation, IT's rotation);
 * escrow turned back on clears the escrow-disabled M3; IT reads M3 worded for IT; a
 * revealed key and the volume rows carry the versions that let the page hide a replaced key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, enrollMac, FV_KEY_1, FV_KEY_2, FV_KEY_3, portalLogin, postForm, TestAgent, type FormCredentials, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('live device page on %s', (kind) => {
  let h: Harness;
  let owner: FormCredentials;
  let admin: FormCredentials;
  beforeAll(async () => {
    h = await createHarness(kind);
    owner = await portalLogin(h, h.people.owner.id);
    admin = await portalLogin(h, h.people.admin.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  const personalMac = (name: string): Promise<TestAgent> => enrollMac(h, 'personal', name);

  async function get(path: string, as: FormCredentials | null = owner): Promise<{ status: number; text: string }> {
    const res = await h.app.request(path, { headers: as ? { cookie: as.cookie } : {} });
    return { status: res.status, text: await res.text() };
  }

  /** Stores a key through the plain form and lets the agent verify it; `result` is what the agent reports. */
  async function storeThroughForm(agent: TestAgent, key: string, result: 'ok' | 'wrong_key'): Promise<void> {
    const res = await postForm(h.app, `/devices/${agent.deviceId}/keys`, owner, { key, confirmKey: key });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/devices/${agent.deviceId}`);
    const [task] = await agent.checkin();
    if (result === 'wrong_key') {
      await agent.complete(task.operationId, { result: 'wrong_key' });
      return;
    }
    const escrowed = await agent.escrow(task.operationId, FV_KEY_2);
    await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId });
  }

  it('a new store replaces the earlier M3 with "Saving…", then M4 replaces "Saving…" — page and live part alike', async () => {
    const mac = await personalMac('Live Mac');
    await storeThroughForm(mac, FV_KEY_3, 'wrong_key');
    expect((await get(`/devices/${mac.deviceId}/live`)).text).toContain('data-notice="M3"');

    await postForm(h.app, `/devices/${mac.deviceId}/keys`, owner, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    for (const path of [`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/live`]) {
      const { text } = await get(path);
      expect(text).not.toContain('data-notice="M3"');
      expect(text).toContain('id="pending"');
      expect(text).toContain('data-live-open="1"');
    }
    const page = (await get(`/devices/${mac.deviceId}`)).text;
    expect(page).toContain('data-live-url="/devices/');
    expect(page).toMatch(/<script nonce="[^"]+">[^<]*device-live/);

    const [task] = await mac.checkin();
    const escrowed = await mac.escrow(task.operationId, FV_KEY_2);
    await mac.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId });
    for (const path of [`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/live`]) {
      const { text } = await get(path);
      expect(text).toContain('data-notice="M4"');
      expect(text).toContain('data-origin="stored"');
      expect(text).not.toContain('id="pending"');
      expect(text).not.toContain('You can leave this page');
      expect(text).toContain('data-live-open="0"');
    }
  });

  it('M4 says who rotated: the owner, or IT — never "verified … stored" for a store that did not happen', async () => {
    const mac = await personalMac('Rotated Mac');
    await storeThroughForm(mac, FV_KEY_1, 'ok');
    const rotateAs = async (who: FormCredentials, back?: string) => {
      const res = await postForm(h.app, `/devices/${mac.deviceId}/rotate`, who, back ? { back } : {});
      expect(res.status).toBe(303);
      const { text } = await get(`/devices/${mac.deviceId}/live`);
      expect(text).toContain('Rotation requested');
      const [task] = await mac.checkin();
      const escrowed = await mac.escrow(task.operationId, FV_KEY_3);
      await mac.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId });
      return (await get(`/devices/${mac.deviceId}`)).text;
    };
    const byOwner = await rotateAs(owner);
    expect(byOwner).toContain('data-origin="owner_rotation"');
    expect(byOwner).toContain('Your recovery key was rotated as you asked');
    expect(byOwner).not.toContain('verified and rotated');
    const byIt = await rotateAs(admin, 'admin');
    expect(byIt).toContain('data-origin="it_rotation"');
    expect(byIt).toContain('IT rotated the recovery key of this device');
  });

  it('rotating asks for a confirmation first; owners see no key version numbers', async () => {
    const mac = await personalMac('Confirm Mac');
    await storeThroughForm(mac, FV_KEY_1, 'ok');
    const { text } = await get(`/devices/${mac.deviceId}`);
    expect(text).toMatch(/<details class="confirm" id="rotate-confirm"><summary>Rotate key<\/summary>[\s\S]*The current key stops working[\s\S]*id="rotate">Rotate now</);
    expect(text).not.toContain('Key version');
    expect(text).toMatch(/<tr data-volume="[^"]+" data-active-version="2">/);
    expect((await get(`/admin/devices/${mac.deviceId}`, admin)).text).toContain('Key version');
  });

  it('a revealed key names its volume and version, and the live rows move on when the device rotates it', async () => {
    const mac = await personalMac('Reveal Mac');
    await storeThroughForm(mac, FV_KEY_1, 'ok');
    const shown = await postForm(h.app, `/devices/${mac.deviceId}/reveal`, owner, {});
    const page = await shown.text();
    const volumeId = /data-volume="([^"]+)" data-version="2"/.exec(page)?.[1];
    expect(volumeId).toBeTruthy();
    expect(page).toContain('data-replaced="This key was replaced by a new one — choose Get recovery key."');
    await postForm(h.app, `/devices/${mac.deviceId}/rotate`, owner, {});
    const [task] = await mac.checkin();
    const escrowed = await mac.escrow(task.operationId, FV_KEY_3);
    await mac.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId });
    expect((await get(`/devices/${mac.deviceId}/live`)).text).toContain(`<tr data-volume="${volumeId}" data-active-version="3">`);
  });

  it('escrow turned back on clears the escrow-disabled M3 and "Needs attention"; IT reads M3 worded for IT', async () => {
    const mac = await personalMac('Escrow Mac');
    await h.deps.db.updateTable('devices').set({ escrow_enabled: 0 }).where('id', '=', mac.deviceId).execute();
    await postForm(h.app, `/devices/${mac.deviceId}/keys`, owner, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    const refused = (await get(`/devices/${mac.deviceId}`)).text;
    expect(refused).toContain('data-cause="escrow_disabled"');
    expect(refused).toContain('data-key-status="failed"');
    const forIt = (await get(`/admin/devices/${mac.deviceId}`, admin)).text;
    expect(forIt).toContain('data-cause="escrow_disabled"');
    expect(forIt).toContain('Escrow is off for this device');
    expect(forIt).not.toContain('Contact IT support');

    await h.deps.db.updateTable('devices').set({ escrow_enabled: 1 }).where('id', '=', mac.deviceId).execute();
    const after = (await get(`/devices/${mac.deviceId}`)).text;
    expect(after).not.toContain('data-notice="M3"');
    expect(after).not.toContain('data-key-status="failed"');
    const api = await call(h.app, 'GET', `/api/v1/devices/${mac.deviceId}`, h.people.owner.token);
    expect(api.body).toMatchObject({ notice: null, keyStatus: 'missing' });
  });

  it('M3 "hasn\'t checked in" carries the Check access button it names', async () => {
    const mac = await personalMac('Silent Mac');
    await h.deps.db.updateTable('devices').set({ last_checkin_at: new Date(Date.now() - 25 * 3600_000).toISOString() }).where('id', '=', mac.deviceId).execute();
    await postForm(h.app, `/devices/${mac.deviceId}/keys`, owner, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    const { text } = await get(`/devices/${mac.deviceId}/live`);
    expect(text).toMatch(/data-cause="not_checked_in"[\s\S]*Choose Check access below[\s\S]*action="\/devices\/[^"]+\/check-access"[\s\S]*id="notice-check-access">Check access</);
    expect(text).not.toContain('Status &gt; Check access');
  });

  it('Get on a personal device with nothing stored points at Store; on a corporate one at IT', async () => {
    const mac = await personalMac('Empty Mac');
    const res = await postForm(h.app, `/devices/${mac.deviceId}/reveal`, owner, {});
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).toContain('No recovery key is stored for this device yet. Store it under Store recovery key on this page.');
    expect(text).not.toContain('Contact IT support');
    const corp = await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: 'Empty corp Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
    const api = await call(h.app, 'POST', `/api/v1/devices/${corp.deviceId}/reveal`, h.people.owner.token, {});
    expect(api.body.error?.message).toContain('Contact IT support: helpdesk@test.example');
  });

  it('the live part is only for the signed-in owner (IT has its own under /admin)', async () => {
    const mac = await personalMac('Private Mac');
    expect((await get(`/devices/${mac.deviceId}/live`, null)).status).toBe(401);
    const other = await portalLogin(h, h.people.other.id);
    expect((await get(`/devices/${mac.deviceId}/live`, other)).status).toBe(404);
    const itLive = await get(`/admin/devices/${mac.deviceId}/live`, admin);
    expect(itLive.status).toBe(200);
    expect(itLive.text).toContain('id="device-live"');
    expect((await get(`/admin/devices/${mac.deviceId}/live`, owner)).status).toBe(403);
  });
});
