/**
 * Group commit on a real SQLite file (server/db/sqlite-group-commit.ts): transactions that run
 * in the same event-loop turn share one COMMIT, each in its own savepoint. A failed transaction
 * undoes only itself; a failed COMMIT, or an error after which SQLite gives up the whole
 * transaction, fails every transaction of the batch and acknowledges none; reads outside a
 * transaction see only committed rows; a transaction is acknowledged only once committed.
 * Connections waiting for the file's write lock wait without blocking the event loop, and
 * processes migrating one new file at once do it one after the other.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql, type Generated } from 'kysely';
import { createNodeSqliteDialect, openSqliteFile } from '../../server/db/sqlite-dialect.ts';

type Db = {
  notes: { id: Generated<number>; text: string };
  parents: { id: number };
  children: { id: Generated<number>; parent_id: number };
};

let dir: string;
let path: string;
let db: Kysely<Db>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-group-commit-'));
  path = join(dir, 'test.db');
  db = new Kysely<Db>({ dialect: createNodeSqliteDialect(openSqliteFile(path)) });
  await sql`create table notes (id integer primary key, text text not null)`.execute(db);
  await sql`create table parents (id integer primary key)`.execute(db);
  await sql`create table children (id integer primary key, parent_id integer not null references parents (id) deferrable initially deferred)`.execute(db);
});

afterEach(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** What another process opening the file sees: committed rows only. */
function committedNotes(): string[] {
  const other = new DatabaseSync(path);
  try {
    return other.prepare('select text from notes order by text').all().map((row) => String(row.text));
  } finally {
    other.close();
  }
}

const insertNote = (text: string) => db.transaction().execute(async (trx) => {
  await trx.insertInto('notes').values({ text }).execute();
  return text;
});

/** Settles each promise, keeping which were fulfilled and which rejected (and why). */
async function outcomes(promises: Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(promises);
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : `failed: ${s.reason instanceof Error ? s.reason.message : String(s.reason)}`));
}

describe('SQLite group commit', () => {
  it('commits the transactions of one turn together, each acknowledged only once on disk', async () => {
    const acknowledged: string[][] = [];
    const writes = ['a', 'b', 'c', 'd'].map((text) => insertNote(text).then((done) => {
      acknowledged.push(committedNotes());
      return done;
    }));
    expect(await Promise.all(writes)).toEqual(['a', 'b', 'c', 'd']);
    // Whenever a transaction was told it was written, all four were already in the file.
    for (const seen of acknowledged) expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a failed transaction rolls back only its own savepoint, not its batch siblings', async () => {
    const failing = db.transaction().execute(async (trx) => {
      await trx.insertInto('notes').values({ text: 'failed' }).execute();
      throw new Error('refused by a rule');
    });
    const results = await outcomes([insertNote('before'), failing, insertNote('after')]);
    expect(results).toEqual(['ok', 'failed: refused by a rule', 'ok']);
    expect(committedNotes()).toEqual(['after', 'before']);
    // A failing statement (a constraint) is the same: only its transaction is undone.
    const duplicate = db.transaction().execute(async (trx) => {
      await trx.insertInto('notes').values({ text: 'half' }).execute();
      await trx.insertInto('notes').values({ id: 1, text: 'duplicate id' }).execute();
    });
    const second = await outcomes([insertNote('sibling'), duplicate]);
    expect(second[0]).toBe('ok');
    expect(second[1]).toMatch(/^failed: .*UNIQUE/);
    expect(committedNotes()).toEqual(['after', 'before', 'sibling']);
  });

  it('a COMMIT that fails fails every transaction of its batch, and none is written', async () => {
    await db.insertInto('notes').values({ text: 'earlier' }).execute();
    // The orphan passes its own savepoint; the deferred foreign key fails the batch's COMMIT.
    const orphan = db.transaction().execute(async (trx) => {
      await trx.insertInto('children').values({ parent_id: 404 }).execute();
    });
    const results = await outcomes([insertNote('one'), orphan, insertNote('two'), db.insertInto('notes').values({ text: 'three' }).execute()]);
    expect(results).toEqual(Array(4).fill('failed: FOREIGN KEY constraint failed'));
    expect(committedNotes()).toEqual(['earlier']);
    expect(await db.selectFrom('children').selectAll().execute()).toEqual([]);
    // The next transaction starts a new batch and is written.
    await insertNote('later');
    expect(committedNotes()).toEqual(['earlier', 'later']);
  });

  it('a full disk fails the batch it happens in, acknowledges none of it, and later transactions go on', async () => {
    await insertNote('earlier');
    const pages = Number((await sql<{ page_count: number }>`pragma page_count`.execute(db)).rows[0].page_count);
    await sql.raw(`pragma max_page_count = ${pages}`).execute(db);
    const big = 'x'.repeat(64 * 1024);
    // SQLite gives up the whole transaction on SQLITE_FULL: "small" (released into the batch
    // before) fails with it; "after" runs after the failure, in a new batch, and fits.
    const results = await outcomes([insertNote('small'), insertNote(big), insertNote('after')]);
    expect(results).toEqual(['failed: the database gave up the transaction after an error; nothing of it was written', 'failed: database or disk is full', 'ok']);
    expect(committedNotes()).toEqual(['after', 'earlier']);
    await sql.raw('pragma max_page_count = 1073741823').execute(db);
    await insertNote(big);
    expect(committedNotes()).toHaveLength(3);
  });

  it('reads outside a transaction see only committed rows', async () => {
    let seenOutside: string[] = [];
    let seenInside: string[] = [];
    const first = insertNote('pending');
    const second = db.transaction().execute(async (trx) => {
      // Runs after "pending" was released into the batch, before the batch commits.
      seenOutside = (await db.selectFrom('notes').select('text').execute()).map((r) => r.text);
      seenInside = (await trx.selectFrom('notes').select('text').execute()).map((r) => r.text);
      await trx.insertInto('notes').values({ text: 'second' }).execute();
    });
    await Promise.all([first, second]);
    expect(seenOutside).toEqual([]);
    expect(seenInside).toEqual(['pending']);
    expect((await db.selectFrom('notes').select('text').orderBy('text').execute()).map((r) => r.text)).toEqual(['pending', 'second']);
  });

  it('a write outside a transaction is acknowledged only once committed', async () => {
    const results = await Promise.all(['x', 'y'].map(async (text) => {
      await db.insertInto('notes').values({ text }).execute();
      return committedNotes();
    }));
    for (const seen of results) expect(seen).toEqual(['x', 'y']);
  });
  it('two connections of one process to the file take turns without blocking the event loop (SQLITE_BUSY)', async () => {
    const second = new Kysely<Db>({ dialect: createNodeSqliteDialect(openSqliteFile(path)) });
    try {
      const started = Date.now();
      const writes = Array.from({ length: 6 }, (_, i) => (i % 2 ? second : db).transaction().execute(async (trx) => {
        await trx.insertInto('notes').values({ text: `note ${i}` }).execute();
      }));
      await Promise.all(writes);
      // Waiting on each other's batch synchronously would cost the 5 s busy timeout.
      expect(Date.now() - started).toBeLessThan(2500);
      expect(committedNotes()).toHaveLength(6);
    } finally {
      await second.destroy();
    }
  });
  it('processes starting on one new file at once migrate it once: the others wait and find it done', async () => {
    const open = fileURLToPath(new URL('../../server/db/open.ts', import.meta.url));
    const opener = (dataDir: string) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const script = `const m = await import(${JSON.stringify(open)}); const o = await m.openDatabase({ dataDir: ${JSON.stringify(dataDir)} }); await o.close();`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    for (let round = 0; round < 3; round++) {
      const dataDir = join(dir, `fresh-${round}`);
      const runs = await Promise.all([opener(dataDir), opener(dataDir), opener(dataDir)]);
      expect(runs).toEqual(Array(3).fill({ code: 0, stderr: '' }));
    }
  }, 60_000);
});
