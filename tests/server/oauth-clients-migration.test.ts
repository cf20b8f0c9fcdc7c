/**
 * Upgrading a database from before the OAuth client allow-list (migration 0002_oauth_clients):
 * the built extension's Chrome and Firefox entries are listed, and browsers connected before
 * the upgrade — through any extension, since nothing was checked then — are signed out.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROME_EXTENSION_ID, CHROME_REDIRECT_URI, FIREFOX_GECKO_ID } from '../../lib/extension-identity.ts';
import { firefoxRedirectUri } from '../../server/auth/oauth-clients.ts';
import { migrateTo, migrateToLatest } from '../../server/db/migrations.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { createNodeSqliteDialect, openSqliteFile } from '../../server/db/sqlite-dialect.ts';
import { PG_URL } from './harness.ts';

type Raw = { db: Kysely<unknown>; schema?: string; close(): Promise<void> };

function openRaw(kind: 'sqlite' | 'postgres'): Raw {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-migrate-'));
    const db = new Kysely<unknown>({ dialect: createNodeSqliteDialect(openSqliteFile(join(dir, 'keyward.db'))) });
    return { db, close: async () => { await db.destroy(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `kw_migrate_${process.pid}_${randomBytes(4).toString('hex')}`;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL, max: 2, options: `-c search_path=${schema}` }) }) });
  return { db, schema, close: async () => { await db.destroy(); await dropPostgresSchema(PG_URL, schema); } };
}

describe.each(['sqlite', 'postgres'] as const)('migration 0002_oauth_clients (%s)', (kind) => {
  let raw: Raw | null = null;
  afterEach(async () => {
    await raw?.close();
    raw = null;
  });

  it('lists the built extension and signs out the browsers connected before the upgrade', async () => {
    raw = openRaw(kind);
    const { db, schema } = raw;
    if (schema) await sql`create schema ${sql.id(schema)}`.execute(db);
    await migrateTo(db, '0001_initial', schema);
    const at = '2026-01-01T00:00:00.000Z';
    await sql`insert into org (id, name, support_contact, escrow_enabled, rotate_after_reveal, checkin_threshold_minutes, offline_cache, created_at) values ('org', 'Org', 'it', 1, 1, 60, 'keys', ${at})`.execute(db);
    await sql`insert into users (id, org_id, email, name, password_hash, role, locale, created_at) values ('u1', 'org', 'u@x.test', 'U', 'h', 'user', 'en', ${at})`.execute(db);
    await sql`insert into oauth_grants (id, user_id, client_id, label, created_at, last_used_at, revoked_at) values ('live', 'u1', 'keyward-extension', 'Chrome on Linux', ${at}, ${at}, null), ('old', 'u1', 'keyward-extension', 'Firefox', ${at}, ${at}, ${at})`.execute(db);

    await migrateToLatest(db, schema);

    const clients = await sql<{ id: string; browser: string; redirect_uri: string }>`select id, browser, redirect_uri from oauth_clients order by browser`.execute(db);
    expect(clients.rows).toEqual([
      { id: CHROME_EXTENSION_ID, browser: 'chrome', redirect_uri: CHROME_REDIRECT_URI },
      { id: FIREFOX_GECKO_ID, browser: 'firefox', redirect_uri: firefoxRedirectUri(FIREFOX_GECKO_ID) },
    ]);
    const grants = await sql<{ id: string; revoked_at: string | null; extension_id: string | null }>`select id, revoked_at, extension_id from oauth_grants order by id`.execute(db);
    expect(grants.rows.map((g) => g.id)).toEqual(['live', 'old']);
    expect(grants.rows.every((g) => g.revoked_at !== null && g.extension_id === null)).toBe(true);
    expect(grants.rows.find((g) => g.id === 'old')?.revoked_at).toBe(at);
  });
});
