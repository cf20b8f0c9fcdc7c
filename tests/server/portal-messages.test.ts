/**
 * Messages that fit, on both databases (issue #9, points 7, 8 and 10): the M2 toast on the
 * device page points at the page itself; escrow turned back on for the whole organisation
 * clears a stale escrow-disabled M3 and "Needs attention", for the owner and in IT's list; IT's
 * device page never shows the texts written to the owner; no portal table has an empty column
 * header; a time reads the same on every portal page and in the extension (one `Intl` format
 * per locale, lib/i18n/format.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTime } from '../../lib/i18n/format.ts';
import { createHarness, enrollMac, FV_KEY_1, FV_KEY_2, portalLogin, postForm, TestAgent, tokensFor, type FormCredentials, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('portal messages on %s', (kind) => {
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

  async function get(path: string, as: FormCredentials): Promise<string> {
    const res = await h.app.request(path, { headers: { cookie: as.cookie } });
    expect(res.status, path).toBe(200);
    return res.text();
  }

  async function setOrgEscrow(enabled: boolean): Promise<void> {
    await h.deps.db.updateTable('org').set({ escrow_enabled: enabled ? 1 : 0 }).execute();
  }

  it('the M2 toast on the device page points at the page, not at "Open the device"', async () => {
    const mac = await personalMac('Toast Mac');
    await setOrgEscrow(false);
    try {
      const res = await postForm(h.app, `/devices/${mac.deviceId}/keys`, owner, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(text).toContain('<div class="toast" role="alert" id="keyward-toast">Couldn&#39;t store the recovery key for this device. The details are in the device status on this page.</div>');
      expect(text).not.toContain('Open the device for details');
    } finally {
      await setOrgEscrow(true);
    }
  });

  it('escrow turned back on for the organisation clears the stale M3 and "Needs attention", for the owner and in IT\'s list', async () => {
    const mac = await personalMac('Policy Mac');
    await setOrgEscrow(false);
    await postForm(h.app, `/devices/${mac.deviceId}/keys`, owner, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    expect(await get(`/devices/${mac.deviceId}`, owner)).toContain('data-cause="escrow_disabled"');
    const rowOf = async () => new RegExp(`<tr data-device="${mac.deviceId}">[^]*?</tr>`).exec(await get('/admin/devices?q=Policy', admin))?.[0] ?? '';
    expect(await rowOf()).toContain('data-key-status="failed"');

    await setOrgEscrow(true);
    for (const path of [`/devices/${mac.deviceId}`, `/devices/${mac.deviceId}/live`]) {
      const text = await get(path, owner);
      expect(text).not.toContain('data-notice="M3"');
      expect(text).not.toContain('data-key-status="failed"');
    }
    expect(await rowOf()).toContain('data-key-status="missing"');
    const cards = await get('/devices', owner);
    expect(new RegExp(`data-device="${mac.deviceId}">[^]*?</li>`).exec(cards)?.[0]).not.toContain('data-key-status="failed"');
  });

  it('IT\'s device page never shows the texts written to the owner (M4, the owner\'s M3)', async () => {
    const mac = await personalMac('Owner-text Mac');
    await postForm(h.app, `/devices/${mac.deviceId}/keys`, owner, { key: FV_KEY_1, confirmKey: FV_KEY_1 });
    const [task] = await mac.checkin();
    const escrowed = await mac.escrow(task.operationId, FV_KEY_2);
    await mac.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId });
    expect(await get(`/devices/${mac.deviceId}`, owner)).toContain('data-notice="M4"');
    for (const path of [`/admin/devices/${mac.deviceId}`, `/admin/devices/${mac.deviceId}/live`]) {
      const text = await get(path, admin);
      expect(text).not.toContain('data-notice="M4"');
      expect(text).not.toContain('Your recovery key');
    }

    await postForm(h.app, `/devices/${mac.deviceId}/keys`, owner, { key: FV_KEY_2, confirmKey: FV_KEY_2 });
    const [again] = await mac.checkin();
    await mac.complete(again.operationId, { result: 'wrong_key' });
    const forIt = await get(`/admin/devices/${mac.deviceId}`, admin);
    expect(forIt).toContain('data-notice="M3"');
    expect(forIt).not.toContain('We couldn&#39;t upload your recovery key');
    expect(forIt).not.toContain('Check that you entered');
  });

  it('no portal table has an empty column header', async () => {
    const mac = await personalMac('Headers Mac');
    await tokensFor(h.app, h.deps, h.people.owner.id);
    const pages: [string, FormCredentials][] = [
      ['/devices', owner], [`/devices/${mac.deviceId}`, owner], [`/devices/${mac.deviceId}/audit`, owner], ['/browsers', owner],
      ['/admin/devices', admin], [`/admin/devices/${mac.deviceId}`, admin], ['/admin/audit', admin], ['/admin/users', admin], ['/admin/policy', admin],
    ];
    const browsers = await get('/browsers', owner);
    expect(browsers).toContain('<table id="browsers">');
    for (const [path, as] of pages) {
      const text = await get(path, as);
      for (const header of text.matchAll(/<th\b[^>]*>([^]*?)<\/th>/g)) {
        expect(header[1].replace(/<[^>]*>/g, '').trim(), `${path}: ${header[0]}`).not.toBe('');
      }
    }
  });

  it('a time reads the same on every portal page and in the extension: one Intl format per locale', async () => {
    const mac = await personalMac('Clock Mac');
    await mac.checkin();
    const row = await h.deps.db.selectFrom('devices').select('last_checkin_at').where('id', '=', mac.deviceId).executeTakeFirstOrThrow();
    const at = row.last_checkin_at;
    expect(at).toBeTruthy();
    for (const locale of ['en', 'sv', 'ja', 'nl', 'da'] as const) {
      expect((await postForm(h.app, '/locale', owner, { locale, next: '/devices' })).status).toBe(303);
      const expected = formatTime(locale, at);
      expect(expected).toBe(new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at ?? '')));
      expect(await get(`/devices/${mac.deviceId}`, owner)).toContain(`<td id="last-checkin">${expected}</td>`);
      expect(new RegExp(`data-device="${mac.deviceId}">[^]*?</li>`).exec(await get('/devices', owner))?.[0]).toContain(`: ${expected}</p>`);
    }
    await postForm(h.app, '/locale', owner, { locale: 'en', next: '/devices' });
  });
});
