/**
 * Opens the service's database: the embedded SQLite file `<dataDir>/keyward.db` (default) or
 * PostgreSQL (`postgres://…`, optionally confined to one schema), and migrates it. The data
 * directory is kept 0700 and the SQLite files 0600 (private-files.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { createNodeSqliteDialect, openSqliteFile } from './sqlite-dialect.ts';
import { migrateToLatest } from './migrations.ts';
import { ensurePrivateDir, ensurePrivateFile, restrictFile } from '../private-files.ts';

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
  /**
   * Open only a database that is already there, as it is (verify-audit): nothing is created,
   * migrated or re-moded, and a missing or unreachable one is a `DatabaseUnavailable`.
   */
  existingOnly?: boolean;
};

/** The database is not there or cannot be reached; the message is one line, without secrets. */
export class DatabaseUnavailable extends Error {}

/** A PostgreSQL URL fit for messages: the password is left out. */
export function displayDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

export function sqliteDatabasePath(dataDir: string): string {
  return join(dataDir, 'keyward.db');
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.pgSchema, options.pgPoolSize ?? 10, options.existingOnly ?? false);
  const dataDir = options.dataDir ?? './data';
  const path = sqliteDatabasePath(dataDir);
  if (options.existingOnly) {
    if (!existsSync(dataDir)) throw new DatabaseUnavailable(`no data directory at ${dataDir}`);
    if (!existsSync(path)) throw new DatabaseUnavailable(`no Keyward database at ${path}`);
    const db = new Kysely<Database>({ dialect: createNodeSqliteDialect(openSqliteFile(path)) });
    return { db, kind: 'sqlite', location: path, close: () => db.destroy() };
  }
  ensurePrivateDir(dataDir);
  ensurePrivateFile(path);
  const file = openSqliteFile(path);
  const db = new Kysely<Database>({ dialect: createNodeSqliteDialect(file) });
  await migrateToLatest(db as Kysely<unknown>);
  restrictFile(`${path}-wal`);
  restrictFile(`${path}-shm`);
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

async function openPostgres(url: string, schema: string | undefined, max: number, existingOnly: boolean): Promise<OpenedDatabase> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(schema ? { options: `-c search_path=${assertSchemaName(schema)}` } : {}),
    ...(existingOnly ? { connectionTimeoutMillis: 10_000 } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const safeUrl = displayDatabaseUrl(url);
  const location = schema ? `${safeUrl} (schema ${schema})` : safeUrl;
  if (existingOnly) {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      await db.destroy();
      const password = URL.canParse(url) ? decodeURIComponent(new URL(url).password) : '';
      const reason = connectionFailure(error);
      throw new DatabaseUnavailable(`cannot reach PostgreSQL at ${location}: ${password ? reason.replaceAll(password, '***') : reason}`);
    }
    return { db, kind: 'postgres', location, close: () => db.destroy() };
  }
  try {
    await withSchemaChangeLock(url, async (client) => {
      if (schema) await client.query(`create schema if not exists "${assertSchemaName(schema)}"`);
      await migrateToLatest(db as Kysely<unknown>, schema);
    });
  } catch (error) {
    await db.destroy();
    if (error instanceof Error && error.message.startsWith('database migration')) throw error;
    const password = URL.canParse(url) ? decodeURIComponent(new URL(url).password) : '';
    const reason = connectionFailure(error);
    throw new DatabaseUnavailable(`cannot reach PostgreSQL at ${location}: ${password ? reason.replaceAll(password, '***') : reason}`);
  }
  return { db, kind: 'postgres', location, close: () => db.destroy() };
}

/** What went wrong connecting, in one line (a refused connection to every address is an AggregateError with no message). */
function connectionFailure(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return [...new Set(error.errors.map(connectionFailure))].join('; ');
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  return (error.message || code || error.name).split('\n')[0];
}

/** Drops a PostgreSQL schema and everything in it (test clean-up). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  await withSchemaChangeLock(url, async (client) => {
    await client.query(`drop schema if exists "${assertSchemaName(schema)}" cascade`);
  });
}
