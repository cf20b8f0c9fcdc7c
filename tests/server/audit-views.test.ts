/**
 * Every audit view pages through the whole log with filters (issue #6, finding 2): the API
 * (`before`/`nextCursor`), the admin audit page (filter form, "Older events" carrying the
 * filters), the device pages (newest events, a link to all of them) and the JSON-lines export
 * all reach every matching event exactly once; bad filter values are a 400, never a 500; and
 * each filter's query is served by an index on both databases.
 */
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../lib/api/contract.ts';
import { appendAudit } from '../../server/audit.ts';
import { auditEventsQuery } from '../../server/services/audit-views.ts';
import type { AuditFilter } from '../../server/services/audit-filter.ts';
import { call, createHarness, enrollMac, FV_KEY_1, portalLogin, TestAgent, type Harness } from './harness.ts';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const FIXTURE_EVENTS = 1200;
const ACTIONS = ['test.alpha', 'test.beta', 'test.gamma', 'test.delta'];
const minute = (i: number) => new Date(T0 + i * 60_000).toISOString();

type Page = { events: AuditEvent[]; nextCursor: number | null };

describe.each(['sqlite', 'postgres'] as const)('audit views page through everything (%s)', (kind) => {
  let h: Harness;
  let ownerMac: TestAgent;
  let otherMac: TestAgent;
  const cookies = { owner: '', other: '', helpdesk: '', admin: '' };

  beforeAll(async () => {
    h = await createHarness(kind);
    ownerMac = await enrollMac(h, 'corporate');
    otherMac = await TestAgent.enroll(h, { owner: h.people.other, ownership: 'personal', name: 'Other Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
    expect((await ownerMac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    const actors = [h.people.owner.id, h.people.helpdesk.id, h.people.admin.id];
    await h.deps.db.transaction().execute(async (trx) => {
      for (let i = 0; i < FIXTURE_EVENTS; i++) {
        await appendAudit(trx, h.deps, minute(i), {
          actorId: actors[i % 3], actorKind: 'user', action: ACTIONS[i % 4], deviceId: i % 10 === 0 ? null : i % 2 ? ownerMac.deviceId : otherMac.deviceId, detail: { i },
        });
      }
    });
    for (const who of ['owner', 'other', 'helpdesk', 'admin'] as const) cookies[who] = (await portalLogin(h, h.people[who].id)).cookie;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The oracle: matching seqs straight from the table, newest first. */
  async function seqsWhere(where: { deviceId?: string; actorId?: string; action?: string; from?: string; to?: string; deviceIds?: string[] }): Promise<number[]> {
    let q = h.deps.db.selectFrom('audit_events').select('seq').orderBy('seq', 'desc');
    if (where.deviceId) q = q.where('device_id', '=', where.deviceId);
    if (where.deviceIds) q = q.where('device_id', 'in', where.deviceIds);
    if (where.actorId) q = q.where('actor_id', '=', where.actorId);
    if (where.action) q = q.where('action', '=', where.action);
    if (where.from) q = q.where('at', '>=', where.from);
    if (where.to) q = q.where('at', '<', where.to);
    return (await q.execute()).map((r) => Number(r.seq));
  }

  /** Follows `nextCursor` from the newest page to the last; every page is a valid `AuditList`. */
  async function allPages(token: string, query: string, limit: number): Promise<number[]> {
    const seqs: number[] = [];
    let before: number | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const res = await call(h.app, 'GET', `/api/v1/audit?${query}${query ? '&' : ''}limit=${limit}${before === null ? '' : `&before=${before}`}`, token);
      expect(res.status).toBe(200);
      const page = res.body as unknown as Page;
      expect(page.events.length).toBeLessThanOrEqual(limit);
      for (const e of page.events) AuditEvent.parse(e);
      seqs.push(...page.events.map((e) => e.seq));
      if (page.nextCursor === null) return seqs;
      before = page.nextCursor;
    }
    throw new Error('paging did not end');
  }

  async function get(path: string, cookie: string): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await h.app.request(path, { headers: { cookie } });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  const pageSeqs = (text: string) => [...text.matchAll(/data-seq="(\d+)"/g)].map((m) => Number(m[1]));
  const olderLink = (text: string) => /<a href="([^"]+)" id="audit-older"/.exec(text)?.[1]?.replaceAll('&amp;', '&') ?? null;

  it('the API pages through the whole log newest first, every event exactly once, and says when it is done', async () => {
    const all = await allPages(h.people.admin.token, '', 97);
    expect(all).toEqual(await seqsWhere({}));
    expect(all.length).toBeGreaterThan(FIXTURE_EVENTS);
    const first = await call(h.app, 'GET', '/api/v1/audit', h.people.admin.token);
    expect((first.body.events as AuditEvent[]).length).toBe(50);
    const last = await call(h.app, 'GET', `/api/v1/audit?before=${all[all.length - 3]}`, h.people.admin.token);
    expect(last.body).toMatchObject({ nextCursor: null });
    expect((last.body.events as AuditEvent[]).map((e) => e.seq)).toEqual(all.slice(-2));
  });

  it('filters by device, actor, action and time range on the API, alone and together', async () => {
    const admin = h.people.admin.token;
    expect(await allPages(admin, `deviceId=${ownerMac.deviceId}`, 64)).toEqual(await seqsWhere({ deviceId: ownerMac.deviceId }));
    expect(await allPages(admin, `actorId=${h.people.helpdesk.id}`, 64)).toEqual(await seqsWhere({ actorId: h.people.helpdesk.id }));
    expect(await allPages(admin, 'action=test.gamma', 64)).toEqual(await seqsWhere({ action: 'test.gamma' }));
    const range = await allPages(admin, `from=${encodeURIComponent(minute(100))}&to=${encodeURIComponent(minute(200))}`, 30);
    expect(range).toHaveLength(100);
    expect(range).toEqual(await seqsWhere({ from: minute(100), to: minute(200) }));
    // A date alone: `from` starts that day, `to` includes it; a time without a zone is UTC.
    expect(await allPages(admin, 'from=2026-03-01&to=2026-03-01', 200)).toHaveLength(FIXTURE_EVENTS);
    expect(await allPages(admin, 'from=2026-03-01&to=2026-03-01T10:00', 200)).toHaveLength(600);
    const combined = await allPages(admin, `deviceId=${ownerMac.deviceId}&actorId=${h.people.owner.id}&action=test.delta&from=2026-03-01T05:00Z`, 10);
    const expected = Array.from({ length: FIXTURE_EVENTS }, (_, i) => i).filter((i) => i % 10 !== 0 && i % 2 === 1 && i % 3 === 0 && i % 4 === 3 && i >= 300);
    expect(combined).toHaveLength(expected.length);
    const events = (await call(h.app, 'GET', `/api/v1/audit?deviceId=${ownerMac.deviceId}&actorId=${h.people.owner.id}&action=test.delta&from=2026-03-01T05:00Z&limit=200`, admin)).body.events as AuditEvent[];
    expect(events.map((e) => e.detail.i)).toEqual(expected.reverse());
  });

  it('an owner pages through exactly the events of their own devices, whatever filter they send', async () => {
    expect(await allPages(h.people.owner.token, '', 150)).toEqual(await seqsWhere({ deviceIds: [ownerMac.deviceId] }));
    expect(await allPages(h.people.owner.token, `deviceId=${otherMac.deviceId}`, 50)).toEqual([]);
    expect(await allPages(h.people.other.token, `actorId=${h.people.owner.id}`, 100)).toEqual(await seqsWhere({ deviceId: otherMac.deviceId, actorId: h.people.owner.id }));
  });

  it('the admin audit page filters with its form and its "Older events" link carries the filters to the end', async () => {
    const start = `/admin/audit?action=test.alpha&deviceId=${otherMac.deviceId}&limit=25`;
    const first = await get(start, cookies.admin);
    expect(first.status).toBe(200);
    expect(first.text).toContain('id="audit-filter"');
    expect(first.text).toContain(`value="${otherMac.deviceId}"`);
    expect(first.text).toContain('<option value="test.alpha" selected>');
    expect(first.text).toContain(`href="/admin/audit/export.jsonl?deviceId=${otherMac.deviceId}&amp;action=test.alpha"`);
    const seen = pageSeqs(first.text);
    expect(seen).toHaveLength(25);
    let next = olderLink(first.text);
    while (next) {
      expect(next).toContain('action=test.alpha');
      expect(next).toContain(`deviceId=${otherMac.deviceId}`);
      const older = await get(`${next}&limit=25`, cookies.admin);
      expect(older.status).toBe(200);
      expect(older.text).toContain('id="audit-newest"');
      seen.push(...pageSeqs(older.text));
      next = olderLink(older.text);
    }
    expect(seen).toEqual(await seqsWhere({ action: 'test.alpha', deviceId: otherMac.deviceId }));
    // The table's actor links filter by that actor, keeping the filters already chosen.
    expect(first.text).toContain(`href="/admin/audit?deviceId=${otherMac.deviceId}&amp;actorId=${h.people.helpdesk.id}&amp;action=test.alpha"`);
  });

  it('device pages show the device’s newest events and link to all of them; the owner pages through them', async () => {
    const adminDevice = await get(`/admin/devices/${ownerMac.deviceId}`, cookies.admin);
    const newest = (await seqsWhere({ deviceId: ownerMac.deviceId })).slice(0, 20);
    expect(pageSeqs(adminDevice.text)).toEqual(newest);
    expect(adminDevice.text).toContain(`href="/admin/audit?deviceId=${ownerMac.deviceId}" id="audit-all"`);

    const ownerDevice = await get(`/devices/${ownerMac.deviceId}`, cookies.owner);
    expect(ownerDevice.status).toBe(200);
    expect(pageSeqs(ownerDevice.text)).toEqual(newest.slice(0, 10));
    expect(ownerDevice.text).toContain(`href="/devices/${ownerMac.deviceId}/audit" id="audit-all"`);

    const seen: number[] = [];
    let next: string | null = `/devices/${ownerMac.deviceId}/audit?action=test.beta`;
    while (next) {
      const res = await get(next, cookies.owner);
      expect(res.status).toBe(200);
      seen.push(...pageSeqs(res.text));
      next = olderLink(res.text);
    }
    expect(seen).toEqual(await seqsWhere({ deviceId: ownerMac.deviceId, action: 'test.beta' }));
    expect(seen.length).toBeGreaterThan(50);
  });

  it('a device’s audit page is its owner’s: another user gets 404, helpdesk is told only admins see the log', async () => {
    expect((await get(`/devices/${ownerMac.deviceId}/audit`, cookies.other)).status).toBe(404);
    const helpdesk = await get(`/devices/${ownerMac.deviceId}/audit`, cookies.helpdesk);
    expect(helpdesk.status).toBe(403);
    expect(helpdesk.text).toContain('Only admins can see the audit log.');
    expect(helpdesk.text).not.toContain('data-seq=');
    const admin = await h.app.request(`/devices/${ownerMac.deviceId}/audit`, { headers: { cookie: cookies.admin } });
    expect(admin.status).toBe(302);
    expect(admin.headers.get('location')).toBe(`/admin/audit?deviceId=${ownerMac.deviceId}`);
  });

  it('the JSON-lines export holds every matching event once, oldest first, as an attachment, for admins only', async () => {
    const whole = await get('/admin/audit/export.jsonl', cookies.admin);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-disposition')).toMatch(/^attachment; filename="keyward-audit-\d{4}-\d{2}-\d{2}\.jsonl"$/);
    const lines = whole.text.trimEnd().split('\n').map((line) => AuditEvent.parse(JSON.parse(line)));
    expect(lines.map((e) => e.seq)).toEqual((await seqsWhere({})).reverse());
    expect(whole.text).not.toContain(FV_KEY_1);
    expect(whole.text).not.toContain(FV_KEY_1.replaceAll('-', ''));

    const filtered = await get(`/admin/audit/export.jsonl?actorId=${h.people.owner.id}&action=test.alpha&from=${encodeURIComponent(minute(10))}&to=2026-03-01T15:00`, cookies.admin);
    const filteredSeqs = filtered.text.trimEnd().split('\n').map((line) => (JSON.parse(line) as AuditEvent).seq);
    expect(filteredSeqs).toEqual((await seqsWhere({ actorId: h.people.owner.id, action: 'test.alpha', from: minute(10), to: minute(900) })).reverse());

    for (const who of ['helpdesk', 'owner'] as const) {
      const refused = await get('/admin/audit/export.jsonl', cookies[who]);
      expect(refused.status).toBe(403);
      expect(refused.text).not.toContain('"seq"');
    }
  });

  const badQueries = ['from=yesterday', 'from=2026-02-30', 'to=2026-13-01', 'before=-1', 'before=abc', 'before=0', 'limit=0', 'limit=201', 'limit=1.5', 'color=red', 'action=a&action=b'];

  it.each(badQueries)('a bad filter (%s) is a 400 on the API, the admin page, the export and the owner’s page', async (query) => {
    const api = await call(h.app, 'GET', `/api/v1/audit?${query}`, h.people.admin.token);
    expect(api.status).toBe(400);
    expect(api.body.error?.code).toBe('invalid_input');
    expect(api.body.error?.field).toBe(query.split('=')[0]);
    const adminPage = await get(`/admin/audit?${query}`, cookies.admin);
    expect(adminPage.status).toBe(400);
    expect(adminPage.text).toContain('id="audit-filter-error"');
    expect(adminPage.text).not.toContain('data-seq=');
    expect((await get(`/admin/audit/export.jsonl?${query}`, cookies.admin)).status).toBe(400);
    expect((await get(`/devices/${ownerMac.deviceId}/audit?${query}`, cookies.owner)).status).toBe(400);
  });

  it('the export takes the filters only: a cursor or page size there is a 400', async () => {
    expect((await get('/admin/audit/export.jsonl?before=10', cookies.admin)).status).toBe(400);
    expect((await get('/admin/audit/export.jsonl?limit=10', cookies.admin)).status).toBe(400);
  });

  it('each filter is served by its index', async () => {
    // Selective values, as in a big log: the planners rightly scan by `seq` for values matching most events.
    const quiet = await TestAgent.enroll(h, { owner: h.people.admin, ownership: 'corporate', name: 'Quiet Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }] });
    // A fleet's log speaks of many devices (so one owner's few are a small share of it).
    await h.deps.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 2000; i++) await appendAudit(trx, h.deps, minute(FIXTURE_EVENTS + i), { actorId: null, actorKind: 'agent', action: 'test.fleet', deviceId: `fleet-device-${i % 500}` });
    });
    await sql`analyze`.execute(h.deps.db);
    const plans: [string, AuditFilter, string][] = [
      ['device', { deviceId: quiet.deviceId }, 'audit_events_device_seq'],
      ['actor', { actorId: h.people.other.id }, 'audit_events_actor_seq'],
      ['action', { action: 'device.enrolled' }, 'audit_events_action_seq'],
      ['time', { from: minute(100), to: minute(110) }, 'audit_events_at_seq'],
      ['owner', { ownerId: h.people.admin.id }, 'audit_events_device_seq'],
    ];
    for (const [name, filter, index] of plans) {
      const compiled = auditEventsQuery(h.deps.db, filter, { by: 'newest' }, 51).compile();
      const explain = `${kind === 'sqlite' ? 'explain query plan' : 'explain'} ${compiled.sql}`;
      const rows = (await h.deps.db.executeQuery(CompiledQuery.raw(explain, [...compiled.parameters]))).rows;
      expect(JSON.stringify(rows), name).toContain(index);
    }
  });
});
