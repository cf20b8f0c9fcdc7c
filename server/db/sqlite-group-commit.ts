/**
 * Group commit on the SQLite file's write connection. Write transactions run one at a time,
 * each as a savepoint inside one shared transaction (a batch) that is committed once per
 * event-loop turn, so one fsync (synchronous=FULL) covers every transaction of the turn. A
 * transaction is acknowledged — its commit resolves — only after its batch's COMMIT returned:
 * nothing acknowledged can be lost in a crash. A transaction that fails rolls back to its own
 * savepoint and leaves the rest of its batch alone. A COMMIT that fails, or an error after
 * which SQLite gave up the whole transaction (disk full, I/O error), fails every transaction of
 * that batch not yet acknowledged, and the next transaction starts a new batch.
 *
 * Reads of the transactions run here too and see the batch so far (the transactions before
 * them, which commit or fail together with them); reads outside any transaction go to a
 * separate connection that sees only committed data (sqlite-dialect.ts).
 */
import type { CompiledQuery, QueryResult } from 'kysely';
import type { SqliteStatements } from './sqlite-statements.ts';

/** A lock that wakes waiters strictly in arrival order (no barging, so no starvation). */
class FifoLock {
  private held = false;
  private readonly waiters: (() => void)[] = [];

  async acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}

/** SQLite gave up the batch's transaction: every transaction in it that was not acknowledged failed. */
export class BatchFailed extends Error {}

const gaveUp = () => new BatchFailed('the database gave up the transaction after an error; nothing of it was written');

/** One shared transaction and the outcome its members wait for. */
export type Batch = {
  /** Settles when the batch is committed (or failed); always handled, so a failure nobody awaits is no crash. */
  readonly outcome: Promise<void>;
  settle(error?: Error): void;
  commitQueued: boolean;
};

function newBatch(): Batch {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const outcome = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  outcome.catch(() => undefined);
  let settled = false;
  return {
    outcome,
    settle(error?: Error) {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    },
    commitQueued: false,
  };
}

const SAVEPOINT = 'request';

/** SQLITE_BUSY (and its extended codes): another connection holds the lock. */
function isBusy(error: unknown): boolean {
  return error instanceof Error && 'errcode' in error && typeof error.errcode === 'number' && (error.errcode & 0xff) === 5;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class GroupCommitWriter {
  private readonly statements: SqliteStatements;
  private readonly lock = new FifoLock();
  private batch: Batch | null = null;

  private readonly busyTimeoutMs: number;

  /** `statements` runs on a connection whose own busy timeout is 0: waiting for the lock happens here, asynchronously. */
  constructor(statements: SqliteStatements, busyTimeoutMs: number) {
    this.statements = statements;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  /** Waits for the write connection, then starts a transaction: a savepoint in the open batch (opening one if needed). */
  async begin(): Promise<Batch> {
    await this.lock.acquire();
    try {
      if (!this.batch) {
        // IMMEDIATE takes the file's write lock up front: no deadlock-prone read→write upgrade.
        await this.whileBusy(() => this.statements.exec('begin immediate'));
        this.batch = newBatch();
      }
      this.statements.exec(`savepoint ${SAVEPOINT}`);
      return this.batch;
    } catch (error) {
      if (this.batch) this.fail(this.batch, asError(error));
      this.lock.release();
      throw error;
    }
  }

  /** Runs a statement of the transaction under way; refused once SQLite has given up the batch. */
  run<R>(batch: Batch, query: CompiledQuery): QueryResult<R> {
    this.assertLive(batch);
    return this.statements.run<R>(query);
  }

  *iterate<R>(batch: Batch, query: CompiledQuery): Generator<R> {
    this.assertLive(batch);
    yield* this.statements.iterate<R>(query);
  }

  /** Ends the transaction under way with its changes kept; resolves once they are committed to disk. */
  async commit(batch: Batch): Promise<void> {
    try {
      this.assertLive(batch);
      this.statements.exec(`release ${SAVEPOINT}`);
    } catch (error) {
      this.fail(batch, asError(error));
    } finally {
      this.queueCommit(batch);
      this.lock.release();
    }
    await batch.outcome;
  }

  /** Ends the transaction under way with its changes undone; the rest of the batch goes on. */
  rollback(batch: Batch): void {
    try {
      if (this.batch === batch && this.statements.db.isTransaction) {
        this.statements.exec(`rollback to ${SAVEPOINT}`);
        this.statements.exec(`release ${SAVEPOINT}`);
      } else {
        this.fail(batch, gaveUp());
      }
    } catch (error) {
      this.fail(batch, asError(error));
    } finally {
      this.queueCommit(batch);
      this.lock.release();
    }
  }

  /** A write outside any transaction: its own savepoint in the batch; resolves once committed. */
  async write<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const batch = await this.begin();
    let result: QueryResult<R>;
    try {
      result = this.run<R>(batch, query);
    } catch (error) {
      this.rollback(batch);
      throw error;
    }
    await this.commit(batch);
    return result;
  }

  /** A statement that cannot run inside a transaction (VACUUM, most pragmas): runs alone, after the open batch commits. */
  async alone<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    await this.lock.acquire();
    try {
      if (this.batch) this.commitNow(this.batch);
      return await this.whileBusy(() => this.statements.run<R>(query));
    } finally {
      this.lock.release();
    }
  }

  /** Commits what is pending and closes the connection. */
  async close(): Promise<void> {
    await this.lock.acquire();
    try {
      if (this.batch) this.commitNow(this.batch);
      this.statements.close();
    } finally {
      this.lock.release();
    }
  }

  /**
   * Runs `attempt` until the file's write lock is free, waiting between tries without blocking
   * the event loop (another connection of this very process may hold the lock until its batch
   * commits on a later turn), for at most the busy timeout.
   */
  private async whileBusy<T>(attempt: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      try {
        return attempt();
      } catch (error) {
        if (!isBusy(error) || Date.now() + pause > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  private assertLive(batch: Batch): void {
    if (this.batch !== batch || !this.statements.db.isTransaction) {
      if (this.batch === batch) this.fail(batch, gaveUp());
      throw gaveUp();
    }
  }

  /** Commits once per event-loop turn: after the transactions already waiting for the connection. */
  private queueCommit(batch: Batch): void {
    if (batch.commitQueued) return;
    batch.commitQueued = true;
    setImmediate(() => {
      void this.lock.acquire().then(() => {
        try {
          if (this.batch === batch) this.commitNow(batch);
        } finally {
          this.lock.release();
        }
      });
    });
  }

  /** With the connection held: COMMIT the batch and tell its members the outcome. */
  private commitNow(batch: Batch): void {
    try {
      this.statements.exec('commit');
      this.batch = null;
      batch.settle();
    } catch (error) {
      this.fail(batch, asError(error));
    }
  }

  /** With the connection held: undo the whole batch and fail its members not yet acknowledged. */
  private fail(batch: Batch, error: Error): void {
    if (this.batch === batch) {
      this.batch = null;
      if (this.statements.db.isTransaction) {
        try {
          this.statements.exec('rollback');
        } catch {
          // The transaction is gone either way; what matters is that nobody is told it was written.
        }
      }
    }
    batch.settle(error);
  }
}
