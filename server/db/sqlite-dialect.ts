/**
 * Kysely dialect for Node's built-in `node:sqlite` (`DatabaseSync`): adapts a synchronous
 * database to the statement interface Kysely's SQLite driver expects, and opens the file
 * with the durability settings the escrow service needs (WAL, synchronous=FULL, busy timeout).
 */
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

export type SqliteOptions = { busyTimeoutMs?: number };

function toInput(value: unknown): SQLInputValue {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value as SQLInputValue;
}

function adaptStatement(stmt: StatementSync): SqliteStatement {
  const reader = stmt.columns().length > 0;
  return {
    reader,
    all: (params) => stmt.all(...params.map(toInput)),
    run: (params) => stmt.run(...params.map(toInput)),
    iterate: (params) => stmt.iterate(...params.map(toInput)) as IterableIterator<unknown>,
  };
}

/** Opens (creating if needed) a SQLite file with WAL and full-sync commits. */
export function openSqliteFile(path: string, options: SqliteOptions = {}): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = ${Math.floor(options.busyTimeoutMs ?? 5000)}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  return db;
}

/** Wraps a `DatabaseSync` for Kysely, caching prepared statements by SQL text. */
export function adaptDatabaseSync(db: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      if (db.isOpen) db.close();
    },
    prepare: (sql) => {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = adaptStatement(db.prepare(sql));
        if (cache.size > 500) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

export function createNodeSqliteDialect(db: DatabaseSync): SqliteDialect {
  return new SqliteDialect({ database: adaptDatabaseSync(db) });
}
