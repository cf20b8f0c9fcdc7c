/**
 * Runs Kysely's compiled queries on one node:sqlite connection, synchronously, with prepared
 * statements cached by SQL text.
 */
import type { DatabaseSync, StatementSync, SQLInputValue } from 'node:sqlite';
import type { CompiledQuery, QueryResult } from 'kysely';

function toInput(value: unknown): SQLInputValue {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value as SQLInputValue;
}

type Prepared = { stmt: StatementSync; returnsRows: boolean };

const MAX_CACHED = 500;

export class SqliteStatements {
  readonly db: DatabaseSync;
  private readonly cache = new Map<string, Prepared>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  private prepare(sql: string): Prepared {
    let entry = this.cache.get(sql);
    if (!entry) {
      const stmt = this.db.prepare(sql);
      entry = { stmt, returnsRows: stmt.columns().length > 0 };
      if (this.cache.size > MAX_CACHED) this.cache.clear();
      this.cache.set(sql, entry);
    }
    return entry;
  }

  run<R>(query: CompiledQuery): QueryResult<R> {
    const { stmt, returnsRows } = this.prepare(query.sql);
    const params = query.parameters.map(toInput);
    if (returnsRows) return { rows: stmt.all(...params) as R[] };
    const { changes, lastInsertRowid } = stmt.run(...params);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  /** Rows one at a time; the statement stays busy until the iteration ends. */
  *iterate<R>(query: CompiledQuery): Generator<R> {
    const { stmt } = this.prepare(query.sql);
    for (const row of stmt.iterate(...query.parameters.map(toInput))) yield row as R;
  }

  /** Runs SQL without parameters or result (transaction control). */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  close(): void {
    this.cache.clear();
    if (this.db.isOpen) this.db.close();
  }
}
