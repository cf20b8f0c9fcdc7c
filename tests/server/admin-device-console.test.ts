/**
 * The IT console's device list at fleet scale: search by device name, owner name or email,
 * or serial number (exact or its start);
 * filters (platform, ownership, key status, not checked in, escrow missing); keyset paging
 * that visits every device once in either sort order; counts per status; CSV and JSON exports
 * of the current filter that never hold a key; and the audited bulk rotation of encrypted
 * devices with no key escrowed, followed to its end on its progress page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../lib/api/contract.ts';
import { call, createHarness, FV_KEY_1, BL_KEY_1, portalLogin, postForm, TestAgent, type FormCredentials, type Harness } from './harness.ts';

const HOUR = 3_600_000;

describe.each(['sqlite', 'postgres'] as const)('IT console device list (%s)', (kind) => {
  let h: Harness;
  let it_: FormCredentials;
  const agents: Record<string, TestAgent> = {};

  beforeAll(async () => {
    h = await createHarness(kind);
    it_ = await portalLogin(h, h.people.helpdesk.id);
    const { owner, other } = h.people;
    const enroll = (name: string, who: typeof owner, ownership: 'corporate' | 'personal', platform: 'macos' | 'windows' | 'linux', serialNumber: string) =>
      TestAgent.enroll(h, {
        owner: who, ownership, name, platform, serialNumber,
        keyKind: platform === 'windows' ? 'bitlocker' : platform === 'macos' ? 'filevault' : 'luks',
        volumes: [{ ref: platform === 'windows' ? 'C:' : 'disk1s1', name: platform === 'windows' ? 'C:' : 'Disk' }],
      });
    agents.alpha = await enroll('Alpha Mac', owner, 'corporate', 'macos', 'C02XK0ABJGH5');
    agents.bravo = await enroll('Bravo PC', owner, 'personal', 'windows', '5CG1234XYZ');
    agents.charlie = await enroll('Charlie 50%_box', other, 'corporate', 'linux', 'pcx-77');
    agents.delta = await enroll('Delta Mac', other, 'personal', 'macos', 'C02YL1BCKH99');
    agents.echo = await enroll('Echo PC', other, 'corporate', 'windows', 'PC-0042');
    expect((await agents.alpha.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    expect((await agents.echo.upload('C:', BL_KEY_1, '{11111111-2222-3333-4444-555555555555}')).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function listed(query: string): Promise<{ status: number; names: string[]; text: string }> {
    const res = await h.app.request(`/admin/devices${query}`, { headers: { cookie: it_.cookie } });
    const text = await res.text();
    const names = [...text.matchAll(/<tr data-device="[^"]+"><td><a href="\/admin\/devices\/[^"]+">([^<]+)<\/a>/g)].map((m) => m[1].replaceAll('&amp;', '&'));
    return { status: res.status, names, text };
  }

  it('searches by device name, owner name or email (substring, any case, % and _ taken literally)', async () => {
    expect((await listed('?q=mac')).names).toEqual(['Alpha Mac', 'Delta Mac']);
    expect((await listed('?q=OTHER%40test')).names).toEqual(['Charlie 50%_box', 'Delta Mac', 'Echo PC']);
    expect((await listed('?q=50%25_')).names).toEqual(['Charlie 50%_box']);
    expect((await listed('?q=%25')).names).toEqual(['Charlie 50%_box']);
    expect((await listed('?q=nobody-matches')).text).toContain('id="devices-empty"');
  });

  it('searches by serial number, exact or its start, in any case (not its middle); a name match and a serial match count once', async () => {
    expect((await listed('?q=c02')).names).toEqual(['Alpha Mac', 'Delta Mac']);
    expect((await listed('?q=5cg1234xyz')).names).toEqual(['Bravo PC']);
    expect((await listed('?q=PCX-77')).names).toEqual(['Charlie 50%_box']);
    expect((await listed('?q=JGH5')).text).toContain('id="devices-empty"');
    expect((await listed('?q=C02XK0ABJGH5X')).text).toContain('id="devices-empty"');
    // "pc": Bravo PC and Echo PC by name (Echo's serial starts with it too), Charlie by serial.
    expect((await listed('?q=pc')).names).toEqual(['Bravo PC', 'Charlie 50%_box', 'Echo PC']);
    expect((await listed('?q=pc&platform=linux')).names).toEqual(['Charlie 50%_box']);
    const api = await call(h.app, 'GET', '/api/v1/devices?scope=all&q=c02x', h.people.helpdesk.token);
    expect((api.body.devices as Device[]).map((d) => [d.name, d.serialNumber])).toEqual([['Alpha Mac', 'C02XK0ABJGH5']]);
  });

  it('shows the serial number in each row and on the device\'s page', async () => {
    const { text } = await listed('?q=c02x');
    expect(text).toContain(`data-serial="C02XK0ABJGH5">C02XK0ABJGH5</td>`);
    const page = await (await h.app.request(`/admin/devices/${agents.alpha.deviceId}`, { headers: { cookie: it_.cookie } })).text();
    expect(page).toContain('<td id="serial-number">C02XK0ABJGH5</td>');
  });

  it('keyset paging through a search visits every match exactly once, name and serial matches alike, in either order', async () => {
    const walk = async (sort: string) => {
      const seen: string[] = [];
      let query = `?q=pc&limit=1&sort=${sort}`;
      for (let i = 0; i < 10; i++) {
        const page = await listed(query);
        expect(page.names.length).toBeLessThanOrEqual(1);
        seen.push(...page.names);
        const next = /href="([^"]+)" id="next-page"/.exec(page.text)?.[1];
        if (!next) break;
        query = next.replaceAll('&amp;', '&').slice('/admin/devices'.length);
      }
      return seen;
    };
    expect(await walk('name')).toEqual(['Bravo PC', 'Charlie 50%_box', 'Echo PC']);
    expect(await walk('-name')).toEqual(['Echo PC', 'Charlie 50%_box', 'Bravo PC']);
  });

  it('filters by platform, ownership, key status and escrow missing, and combines them', async () => {
    expect((await listed('?platform=windows')).names).toEqual(['Bravo PC', 'Echo PC']);
    expect((await listed('?ownership=personal')).names).toEqual(['Bravo PC', 'Delta Mac']);
    expect((await listed('?status=escrowed')).names).toEqual(['Alpha Mac', 'Echo PC']);
    expect((await listed('?status=missing&platform=macos')).names).toEqual(['Delta Mac']);
    expect((await listed('?escrowMissing=1')).names).toEqual(['Bravo PC', 'Charlie 50%_box', 'Delta Mac']);
  });

  it('a bad filter is refused with 400 and a message in the reader\'s language, not a 500', async () => {
    const res = await h.app.request('/admin/devices?platform=amiga', { headers: { cookie: it_.cookie } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This filter is not valid');
    const api = await call(h.app, 'GET', '/api/v1/devices?scope=all&after=not-a-cursor', h.people.helpdesk.token);
    expect(api.status).toBe(400);
    expect(api.body.error?.code).toBe('invalid_input');
  });

  it('keyset paging visits every device exactly once, in either order, through the console and the API', async () => {
    const walk = async (sort: string) => {
      const seen: string[] = [];
      let query = `?limit=2&sort=${sort}`;
      for (let i = 0; i < 10; i++) {
        const page = await listed(query);
        expect(page.names.length).toBeLessThanOrEqual(2);
        seen.push(...page.names);
        const next = /id="next-page" rel="next" href="|href="([^"]+)" id="next-page"/.exec(page.text)?.[1];
        if (!next) break;
        query = next.replaceAll('&amp;', '&').slice('/admin/devices'.length);
      }
      return seen;
    };
    const all = ['Alpha Mac', 'Bravo PC', 'Charlie 50%_box', 'Delta Mac', 'Echo PC'];
    expect(await walk('name')).toEqual(all);
    expect(await walk('-name')).toEqual([...all].reverse());
    const apiSeen: string[] = [];
    let after = '';
    for (let i = 0; i < 10; i++) {
      const res = await call(h.app, 'GET', `/api/v1/devices?scope=all&limit=2${after ? `&after=${after}` : ''}`, h.people.helpdesk.token);
      apiSeen.push(...(res.body.devices as Device[]).map((d) => d.name));
      if (!res.body.next) break;
      after = String(res.body.next);
    }
    expect(apiSeen).toEqual(all);
  });

  it('counts devices per status; devices that stop checking in are counted and filtered as stale', async () => {
    const counts = async () => {
      const { text } = await listed('');
      return Object.fromEntries([...text.matchAll(/data-count="(\w+)">[^<]*<strong>(\d+)<\/strong>/g)].map((m) => [m[1], Number(m[2])]));
    };
    expect(await counts()).toEqual({ total: 5, escrowed: 2, missing: 3, pending: 0, failed: 0, broken: 0, stale: 0, escrowMissing: 3 });
    await h.deps.db.updateTable('org').set({ checkin_threshold_minutes: 60 }).execute();
    h.clock.advance(2 * HOUR);
    try {
      await agents.alpha.checkin();
      expect((await listed('?stale=1')).names).toEqual(['Bravo PC', 'Charlie 50%_box', 'Delta Mac', 'Echo PC']);
      expect(await counts()).toMatchObject({ stale: 4, missing: 3, escrowed: 2 });
    } finally {
      h.clock.advance(-2 * HOUR);
      await h.deps.db.updateTable('org').set({ checkin_threshold_minutes: 60 * 24 }).execute();
    }
    expect((await counts()).stale).toBe(0);
  });

  it('exports the current filter as CSV and JSON, with statuses and no key', async () => {
    const csv = await h.app.request('/admin/devices/export.csv?platform=windows', { headers: { cookie: it_.cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="keyward-devices-.*\.csv"/);
    const text = await csv.text();
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('id,name,owner,platform,ownership,keyKind,keyStatus,escrowEnabled,lastCheckinAt,volumes,protectorIds,serialNumber');
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['Bravo PC', 'Echo PC']);
    expect(lines.slice(1).map((l) => l.split(',')[11])).toEqual(['5CG1234XYZ', 'PC-0042']);
    const json = await h.app.request('/admin/devices/export.json?q=mac', { headers: { cookie: it_.cookie } });
    const rows = (await json.json()) as { name: string; keyStatus: string; serialNumber: string | null }[];
    expect(rows.map((r) => [r.name, r.keyStatus, r.serialNumber])).toEqual([['Alpha Mac', 'escrowed', 'C02XK0ABJGH5'], ['Delta Mac', 'missing', 'C02YL1BCKH99']]);
    const bySerial = await h.app.request('/admin/devices/export.csv?q=c02y', { headers: { cookie: it_.cookie } });
    expect((await bySerial.text()).trim().split('\r\n').slice(1).map((l) => l.split(',')[11])).toEqual(['C02YL1BCKH99']);
    const everything = `${text}${JSON.stringify(rows)}${await (await h.app.request('/admin/devices/export.json', { headers: { cookie: it_.cookie } })).text()}`;
    for (const key of [FV_KEY_1, BL_KEY_1]) {
      expect(everything).not.toContain(key);
      expect(everything).not.toContain(key.replaceAll('-', ''));
    }
  });

  it('people without an IT role get neither the list nor an export', async () => {
    const user = await portalLogin(h, h.people.owner.id);
    for (const path of ['/admin/devices', '/admin/devices/export.csv', '/admin/devices/export.json']) {
      expect((await h.app.request(path, { headers: { cookie: user.cookie } })).status).toBe(403);
    }
    expect((await call(h.app, 'GET', '/api/v1/devices?scope=all', h.people.owner.token)).status).toBe(403);
  });

  it('bulk rotation queues one audited rotation per encrypted volume with no key escrowed, and shows its progress to the end', async () => {
    const page = await h.app.request('/admin/devices', { headers: { cookie: it_.cookie } });
    expect(await page.text()).toContain('id="bulk-rotate-submit"');
    const started = await postForm(h.app, '/admin/devices/rotate-escrow-missing', it_, {});
    expect(started.status).toBe(303);
    const progressPath = started.headers.get('location') ?? '';
    expect(progressPath).toMatch(/^\/admin\/devices\/bulk\//);
    // The work goes on after the answer: poll its progress page until it says it is done.
    let progress = '';
    for (const started = Date.now(); Date.now() - started < 20_000; await new Promise((r) => setTimeout(r, 20))) {
      progress = await (await h.app.request(progressPath, { headers: { cookie: it_.cookie } })).text();
      if (progress.includes('data-state="done"')) break;
    }
    expect(progress).toContain('data-state="done" data-done="3" data-total="3" data-queued="3"');
    for (const name of ['bravo', 'charlie', 'delta']) {
      const tasks = await agents[name].checkin();
      expect(tasks.map((t) => t.kind)).toEqual(['rotate']);
    }
    expect(await agents.alpha.checkin()).toEqual([]);
    const actions = await h.deps.db.selectFrom('audit_events').select(['action', 'actor_id']).where('action', 'in', ['devices.bulk_rotation_requested', 'rotation.requested', 'devices.bulk_rotation_finished']).orderBy('seq').execute();
    expect(actions.map((a) => a.action)).toEqual(['devices.bulk_rotation_requested', 'rotation.requested', 'rotation.requested', 'rotation.requested', 'devices.bulk_rotation_finished']);
    expect(new Set(actions.map((a) => a.actor_id))).toEqual(new Set([h.people.helpdesk.id]));
    // A form without its CSRF token starts nothing.
    expect((await postForm(h.app, '/admin/devices/rotate-escrow-missing', { ...it_, csrf: 'wrong' }, {})).status).toBe(403);
  });
});
