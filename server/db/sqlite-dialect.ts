/**
 * Kysely dialect for Node's built-in `node:sqlite` (`DatabaseSync`), over two connections to
 * the file. Transactions and writes go to the write connection, which commits them in groups
 * (sqlite-group-commit.ts: one fsync per event-loop turn, each acknowledged only once on disk);
 * reads outside any transaction go to a read-only connection that sees only committed data
 * (WAL). The file is opened with the durability the escrow service needs: WAL,
 * synchronous=FULL, a busy timeout.
 */
import { DatabaseSync } from 'node:sqlite';
import {
  SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler,
  type CompiledQuery, type DatabaseConnection, type DatabaseIntrospector, type Dialect, type DialectAdapter, type Driver, type Kysely, type QueryCompiler, type QueryResult,
} from 'kysely';
import { SqliteStatements } from './sqlite-statements.ts';
import { GroupCommitWriter, type Batch } from './sqlite-group-commit.ts';

export type SqliteOptions = { busyTimeoutMs?: number };

/** How long a statement waits for another connection's lock before it fails with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/**
 * Page cache per connection, in KiB (SQLite's default is 2 MiB). With a long history the pages
 * a burst of writes touches (the index leaves of the devices being worked on) no longer fit in
 * 2 MiB; memory is taken only as pages are read.
 */
const PAGE_CACHE_KIB = 32 * 1024;
/**
 * WAL pages after which a commit copies the log back into the file (SQLite's default is 1,000,
 * 4 MiB). A page written again and again between checkpoints is copied back once, so a longer
 * log means fewer scattered writes to a large file; the log file grows to about 16 MiB.
 */
const WAL_CHECKPOINT_PAGES = 4000;

/** Opens (creating if needed) a SQLite file with WAL and full-sync commits. */
export function openSqliteFile(path: string, options: SqliteOptions = {}): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = ${Math.floor(options.busyTimeoutMs ?? BUSY_TIMEOUT_MS)}`);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
  db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  return db;
}

/** A second connection to the same file that can only read (an in-memory database has none: it reads on the writer). */
function openReader(writer: DatabaseSync): DatabaseSync | null {
  const path = writer.location();
  if (!path) return null;
  const reader = openSqliteFile(path);
  reader.exec('PRAGMA query_only = ON');
  return reader;
}

type Route = 'read' | 'write' | 'alone';

const RAW_READ = /^\s*(select|explain)\b|^\s*pragma\s+\w+\s*;?\s*$/i;
const RAW_ALONE = /^\s*(vacuum|pragma)\b/i;

/** Where a statement outside any transaction runs: reads on the read connection, the rest on the writer. */
function routeOf(query: CompiledQuery): Route {
  const node = query.query;
  if (node.kind === 'SelectQueryNode') return 'read';
  if (node.kind === 'RawNode') {
    if (RAW_READ.test(query.sql)) return 'read';
    if (RAW_ALONE.test(query.sql)) return 'alone';
  }
  return 'write';
}

/**
 * What Kysely holds between acquiring and releasing a connection: outside a transaction each
 * statement goes where routeOf says; inside one, everything runs in its savepoint on the writer.
 */
class SqliteLease implements DatabaseConnection {
  private readonly reader: SqliteStatements;
  private readonly writer: GroupCommitWriter;
  private transaction: Batch | null = null;

  constructor(reader: SqliteStatements, writer: GroupCommitWriter) {
    this.reader = reader;
    this.writer = writer;
  }

  async begin(): Promise<void> {
    this.transaction = await this.writer.begin();
  }

  async commit(): Promise<void> {
    const batch = this.endTransaction();
    if (batch) await this.writer.commit(batch);
  }

  async rollback(): Promise<void> {
    const batch = this.endTransaction();
    if (batch) this.writer.rollback(batch);
  }

  private endTransaction(): Batch | null {
    const batch = this.transaction;
    this.transaction = null;
    return batch;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.transaction) return this.writer.run<R>(this.transaction, query);
    switch (routeOf(query)) {
      case 'read': return this.reader.run<R>(query);
      case 'alone': return this.writer.alone<R>(query);
      case 'write': return this.writer.write<R>(query);
    }
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (this.transaction) {
      for (const row of this.writer.iterate<R>(this.transaction, query)) yield { rows: [row] };
    } else if (routeOf(query) === 'read') {
      for (const row of this.reader.iterate<R>(query)) yield { rows: [row] };
    } else {
      yield await this.executeQuery<R>(query);
    }
  }
}

function leaseOf(connection: DatabaseConnection): SqliteLease {
  if (!(connection instanceof SqliteLease)) throw new Error('not a connection of this SQLite dialect');
  return connection;
}

class NodeSqliteDriver implements Driver {
  private readonly writerDb: DatabaseSync;
  private readonly writer: GroupCommitWriter;
  private readonly reader: SqliteStatements;

  constructor(db: DatabaseSync) {
    this.writerDb = db;
    const writerStatements = new SqliteStatements(db);
    // The writer waits for the file's write lock asynchronously (sqlite-group-commit.ts), never blocking the event loop.
    db.exec('PRAGMA busy_timeout = 0');
    this.writer = new GroupCommitWriter(writerStatements, BUSY_TIMEOUT_MS);
    const readerDb = openReader(db);
    this.reader = readerDb ? new SqliteStatements(readerDb) : writerStatements;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new SqliteLease(this.reader, this.writer);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await leaseOf(connection).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await leaseOf(connection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await leaseOf(connection).rollback();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    await this.writer.close();
    if (this.reader.db !== this.writerDb) this.reader.close();
  }
}

/**
 * SQLite runs DDL inside transactions, so migrations run as one: a second process starting on
 * the same file waits for the write lock and then finds them applied, instead of racing them.
 */
class MigratingSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class NodeSqliteDialect implements Dialect {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.db);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new MigratingSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

export function createNodeSqliteDialect(db: DatabaseSync): NodeSqliteDialect {
  return new NodeSqliteDialect(db);
}
