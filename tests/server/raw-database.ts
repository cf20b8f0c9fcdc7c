/**
 * A bare database for migration tests: a SQLite file in a temporary directory, or a fresh
 * PostgreSQL schema, with no migration applied yet — so a test can migrate to an older
 * schema, write rows as they were then, and upgrade.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { createNodeSqliteDialect, openSqliteFile } from '../../server/db/sqlite-dialect.ts';
import { PG_URL } from './harness.ts';

export type RawDatabase = { db: Kysely<unknown>; schema?: string; close(): Promise<void> };

export async function openRawDatabase(kind: 'sqlite' | 'postgres'): Promise<RawDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-migrate-'));
    const db = new Kysely<unknown>({ dialect: createNodeSqliteDialect(openSqliteFile(join(dir, 'keyward.db'))) });
    return { db, close: async () => { await db.destroy(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `kw_migrate_${process.pid}_${randomBytes(4).toString('hex')}`;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL, max: 2, options: `-c search_path=${schema}` }) }) });
  await sql`create schema ${sql.id(schema)}`.execute(db);
  return { db, schema, close: async () => { await db.destroy(); await dropPostgresSchema(PG_URL, schema); } };
}
