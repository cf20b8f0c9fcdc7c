/**
 * Opens the service's database: the embedded SQLite file `<dataDir>/keyward.db` (default) or
 * PostgreSQL (`postgres://…`, optionally confined to one schema), and migrates it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { createNodeSqliteDialect, openSqliteFile } from './sqlite-dialect.ts';
import { migrateToLatest } from './migrations.ts';

export type DbKind = 'sqlite' | 'postgres';

export type OpenedDatabase = {
  db: Kysely<Database>;
  kind: DbKind;
  /** Where the data lives, for messages ("/data/keyward.db", "postgres://host/db"). */
  location: string;
  close(): Promise<void>;
};

export type OpenDatabaseOptions = {
  dataDir?: string;
  databaseUrl?: string;
  /** PostgreSQL only: use (and create) this schema instead of `public`. */
  pgSchema?: string;
  pgPoolSize?: number;
};

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.pgSchema, options.pgPoolSize ?? 10);
  const dataDir = options.dataDir ?? './data';
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'keyward.db');
  const file = openSqliteFile(path);
  const db = new Kysely<Database>({ dialect: createNodeSqliteDialect(file) });
  await migrateToLatest(db as Kysely<unknown>);
  return { db, kind: 'sqlite', location: path, close: () => db.destroy() };
}

function assertSchemaName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid schema name: ${name}`);
  return name;
}

/**
 * Schema changes (migrations, dropping a test schema) take one advisory lock, so instances
 * starting together migrate one at a time and a schema dropped elsewhere never vanishes
 * under a migration's catalog introspection.
 */
const SCHEMA_CHANGE_LOCK = 7_455_012;

async function withSchemaChangeLock<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [SCHEMA_CHANGE_LOCK]);
    return await work(client);
  } finally {
    await client.end();
  }
}

async function openPostgres(url: string, schema: string | undefined, max: number): Promise<OpenedDatabase> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(schema ? { options: `-c search_path=${assertSchemaName(schema)}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await withSchemaChangeLock(url, async (client) => {
      if (schema) await client.query(`create schema if not exists "${assertSchemaName(schema)}"`);
      await migrateToLatest(db as Kysely<unknown>, schema);
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const safeUrl = url.replace(/\/\/[^@/]*@/, '//');
  return { db, kind: 'postgres', location: schema ? `${safeUrl} (schema ${schema})` : safeUrl, close: () => db.destroy() };
}

/** Drops a PostgreSQL schema and everything in it (test clean-up). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  await withSchemaChangeLock(url, async (client) => {
    await client.query(`drop schema if exists "${assertSchemaName(schema)}" cascade`);
  });
}
