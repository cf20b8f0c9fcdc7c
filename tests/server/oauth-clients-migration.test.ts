/**
 * Upgrading a database from before the OAuth client allow-list (migration 0002_oauth_clients):
 * the built extension's Chrome and Firefox entries are listed, and browsers connected before
 * the upgrade — through any extension, since nothing was checked then — are signed out.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROME_EXTENSION_ID, CHROME_REDIRECT_URI, FIREFOX_GECKO_ID } from '../../lib/extension-identity.ts';
import { firefoxRedirectUri } from '../../server/auth/extension-clients.ts';
import { migrateTo, migrateToLatest } from '../../server/db/migrations.ts';
import { openRawDatabase, type RawDatabase } from './raw-database.ts';

describe.each(['sqlite', 'postgres'] as const)('migration 0002_oauth_clients (%s)', (kind) => {
  let raw: RawDatabase | null = null;
  afterEach(async () => {
    await raw?.close();
    raw = null;
  });

  it('lists the built extension and signs out the browsers connected before the upgrade', async () => {
    raw = await openRawDatabase(kind);
    const { db, schema } = raw;
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
