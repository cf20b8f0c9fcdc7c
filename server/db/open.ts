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

async function openPostgres(url: string, schema: string | undefined, max: number): Promise<OpenedDatabase> {
  if (schema) {
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    try {
      await setup.query(`create schema if not exists "${assertSchemaName(schema)}"`);
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(schema ? { options: `-c search_path=${assertSchemaName(schema)}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db as Kysely<unknown>, schema);
  const safeUrl = url.replace(/\/\/[^@/]*@/, '//');
  return { db, kind: 'postgres', location: schema ? `${safeUrl} (schema ${schema})` : safeUrl, close: () => db.destroy() };
}

/** Drops a PostgreSQL schema and everything in it (test clean-up). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${assertSchemaName(schema)}" cascade`);
  } finally {
    await client.end();
  }
}
