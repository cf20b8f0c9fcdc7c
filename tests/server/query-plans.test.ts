/**
 * Every statement the hot flows run (store, check-in, escrow, complete, reveal, rotate, the
 * device lists, the admin console, retention) is captured as it is sent to the database and
 * its query plan is checked: no statement may read a whole large table. On PostgreSQL
 * sequential scans are disabled while planning, so a Seq Scan left in a plan means there is
 * no index the query can use at all (small tables would otherwise be scanned by choice).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DbKind } from '../../server/db/open.ts';
import { sqliteDatabasePath } from '../../server/db/open.ts';
import type { Database } from '../../server/db/schema.ts';
import { createNodeSqliteDialect, openSqliteFile } from '../../server/db/sqlite-dialect.ts';
import { createApp } from '../../server/app.ts';
import { destroyExpiredKeyVersions, pruneFinishedOperations } from '../../server/services/retention.ts';
import { call, createHarness, enrollMac, FV_KEY_1, FV_KEY_2, PG_URL, portalLogin, TestAgent, type Harness } from './harness.ts';

/** Tables that grow with the fleet and its history: never read whole. */
const LARGE = ['devices', 'volumes', 'key_versions', 'operations', 'audit_events', 'oauth_tokens', 'oauth_grants', 'oauth_codes', 'sessions', 'idempotency', 'users', 'enrollment_tokens', 'rate_limits'];

type Captured = { sql: string; parameters: readonly unknown[] };

function loggingDb(h: Harness, captured: Captured[]): Kysely<Database> {
  const log = (event: { level: string; query: { sql: string; parameters: readonly unknown[] } }) => {
    if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: event.query.parameters });
  };
  if (h.kind === 'sqlite') return new Kysely<Database>({ dialect: createNodeSqliteDialect(openSqliteFile(sqliteDatabasePath(h.dataDir))), log });
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2, options: `-c search_path=${h.pgSchema}` });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log });
}

/** Table (or alias) names a plan reads whole; a whole-index walk counts only without a LIMIT. */
async function fullScans(db: Kysely<Database>, kind: DbKind, q: Captured, aliases: Map<string, string>): Promise<string[]> {
  // A walk of an index stops at its LIMIT; counting the fleet per status reads a covering index by design.
  const limited = /\blimit\b|\bcount\(/i.test(q.sql);
  if (kind === 'sqlite') {
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]));
    return plan.rows
      .map((r) => /^SCAN (\S+)( USING (COVERING )?INDEX)?/.exec(r.detail))
      .filter((m): m is RegExpExecArray => m !== null && !(m[2] && limited))
      .map((m) => aliases.get(m[1]) ?? m[1]);
  }
  return db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const plan = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]));
    return plan.rows
      .map((r) => /Seq Scan on "?(\w+)"?(?: "?(\w+)"?)?/.exec(r['QUERY PLAN']))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => m[1]);
  });
}

/** The plan of a statement as text (EXPLAIN QUERY PLAN on SQLite; EXPLAIN on PostgreSQL, sequential scans disabled). */
async function planText(db: Kysely<Database>, kind: DbKind, q: Captured): Promise<string> {
  if (kind === 'sqlite') {
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]));
    return plan.rows.map((r) => r.detail).join('\n');
  }
  return db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const plan = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]));
    return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

function aliasesOf(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of text.matchAll(/"(\w+)" as "(\w+)"/g)) map.set(m[2], m[1]);
  return map;
}

describe.each(['sqlite', 'postgres'] as const)('query plans of the hot flows (%s)', (kind) => {
  let h: Harness;
  let db: Kysely<Database>;
  const captured: Captured[] = [];

  beforeAll(async () => {
    h = await createHarness(kind);
    db = loggingDb(h, captured);
  });
  afterAll(async () => {
    await db?.destroy();
    await h?.close();
  });

  it('use an index for every lookup in a large table', async () => {
    const corporate = await enrollMac(h, 'corporate');
    const personal = await enrollMac(h, 'personal');
    const deps = { ...h.deps, db };
    const app = createApp(deps);
    const agent = new TestAgent(app);
    agent.deviceId = personal.deviceId;
    agent.credential = personal.credential;
    const { owner, admin } = h.people;

    expect((await agent.upload('disk1s1', FV_KEY_1)).status).toBe(200);
    expect((await call(app, 'POST', `/api/v1/devices/${agent.deviceId}/keys`, owner.token, { key: FV_KEY_1, confirmKey: FV_KEY_1, idempotencyKey: 'store-plan-1' })).status).toBe(202);
    const [task] = await agent.checkin();
    const escrowed = await agent.escrow(task.operationId, FV_KEY_2);
    expect((await agent.complete(task.operationId, { result: 'ok', keyVersionId: escrowed.body.keyVersionId })).status).toBe(200);
    expect((await call(app, 'POST', `/api/v1/devices/${agent.deviceId}/reveal`, owner.token, {})).status).toBe(200);
    expect((await call(app, 'POST', `/api/v1/devices/${agent.deviceId}/rotate`, owner.token, {})).status).toBe(202);
    expect((await call(app, 'POST', `/api/v1/devices/${agent.deviceId}/check-access`, owner.token, {})).status).toBe(202);
    const list = await call(app, 'GET', '/api/v1/devices', owner.token);
    expect(list.status).toBe(200);
    expect((await call(app, 'GET', `/api/v1/devices?cursor=${encodeURIComponent(String(list.body.cursor))}`, owner.token)).status).toBe(200);
    expect((await call(app, 'GET', `/api/v1/devices/${corporate.deviceId}`, admin.token)).status).toBe(200);
    expect((await call(app, 'GET', '/api/v1/devices?scope=all', admin.token)).status).toBe(200);
    expect((await call(app, 'GET', '/api/v1/me', owner.token)).status).toBe(200);
    const browser = await portalLogin(h, admin.id);
    for (const path of ['/admin/devices', '/admin/devices?q=mac&platform=macos&status=missing&stale=1&escrowMissing=1&sort=-name', '/admin/devices?q=c02xk&sort=-name', `/admin/devices/${corporate.deviceId}`, '/devices']) {
      expect((await app.request(path, { headers: { cookie: browser.cookie } })).status).toBe(200);
    }
    await destroyExpiredKeyVersions(deps, 90);
    await pruneFinishedOperations(deps, 90);

    const statements = new Map<string, Captured>();
    for (const q of captured) if (/^\s*(select|update|delete|with)\b/i.test(q.sql)) statements.set(q.sql, q);
    expect(statements.size).toBeGreaterThan(20);
    const offenders: string[] = [];
    for (const q of statements.values()) {
      const scanned = (await fullScans(db, kind, q, aliasesOf(q.sql))).filter((t) => LARGE.includes(t));
      if (scanned.length) offenders.push(`${scanned.join(', ')}: ${q.sql}`);
    }
    expect(offenders).toEqual([]);
  });

  it('a console search reads serial number matches through the serial index', async () => {
    const browser = await portalLogin(h, h.people.admin.id);
    const app = createApp({ ...h.deps, db });
    for (let i = 0; i < 5; i++) {
      await TestAgent.enroll(h, { owner: h.people.owner, ownership: 'corporate', name: `Serial ${i}`, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD' }], serialNumber: `C02PLAN${i}` });
    }
    captured.length = 0;
    const page = await app.request('/admin/devices?q=c02plan3', { headers: { cookie: browser.cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('>Serial 3</a>');
    const search = captured.find((q) => q.sql.includes('"serial_search" >='));
    if (!search) throw new Error('the search sent no statement matching serial numbers');
    // The range is the index's own condition, not a filter on rows read another way.
    expect(await planText(db, kind, search)).toMatch(/devices_serial_search \(serial_search>\? AND serial_search<\?\)|Index Cond: \(\(serial_search >= /);
  });

  it('a device list costs the same number of statements for 3 devices as for 30 (no query per device)', async () => {
    const browser = await portalLogin(h, h.people.admin.id);
    const app = createApp({ ...h.deps, db });
    const statementsFor = async (path: string, headers: Record<string, string>) => {
      captured.length = 0;
      expect((await app.request(path, { headers })).status).toBe(200);
      return captured.length;
    };
    const lists = async () => [
      await statementsFor('/admin/devices', { cookie: browser.cookie }),
      await statementsFor('/api/v1/devices', { authorization: `Bearer ${h.people.owner.token}` }),
      await statementsFor('/api/v1/devices?scope=all', { authorization: `Bearer ${h.people.admin.token}` }),
    ];
    while ((await h.deps.db.selectFrom('devices').select('id').execute()).length < 3) await enrollMac(h, 'corporate');
    await lists();
    const few = await lists();
    for (let i = 0; i < 30; i++) await enrollMac(h, i % 2 ? 'corporate' : 'personal');
    await lists();
    expect(await lists()).toEqual(few);
  });
});
