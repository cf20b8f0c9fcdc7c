/**
 * `keyward backup`: a consistent copy of the database and, kept apart from it, the files that
 * open and vouch for it — the KEK ring, the audit key and this instance's signed checkpoints.
 * SQLite: an online copy with `VACUUM INTO` (one read transaction: consistent while the service
 * runs). PostgreSQL: `pg_dump --format=custom` (one snapshot), the password passed in the
 * environment, never on the command line. The checkpoints are copied before the database, so
 * every checkpoint in the backup is at or behind the copied log's head and `verify-audit`
 * passes on the restored copy. `keyward restore` (SQLite) puts a backup into a new data
 * directory; for PostgreSQL it is `pg_restore` (see the README).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, displayDatabaseUrl, sqliteDatabasePath } from './db/open.ts';
import { kekRingFiles, readKekRing } from './crypto/kek.ts';
import { ensurePrivateDir, ensurePrivateFile, restrictFile } from './private-files.ts';

export class BackupRefused extends Error {}

export type BackupOptions = {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL confined to one schema (tests). */
  pgSchema?: string;
  kekFile: string;
  auditKeyFile: string;
  checkpointFiles: string[];
  /** Where the database copy goes. */
  out: string;
  /** Where the keys and checkpoints go: somewhere else than the database copy. */
  keysOut: string;
  clock?: { now(): Date };
};

export type BackupResult = { database: string; keyFiles: string[]; kekIds: string[] };

/** PostgreSQL's dump file name inside `--out`. */
export const PG_DUMP_FILE = 'keyward.pgdump';

function inside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error) => reject(new BackupRefused(`${command} could not be run (${error.message}); install the PostgreSQL client tools of your server's version`)));
    child.on('close', (code) => (code === 0 ? resolveRun() : reject(new BackupRefused(`${command} failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`))));
  });
}

export async function backup(o: BackupOptions): Promise<BackupResult> {
  if (inside(o.keysOut, o.out) || inside(o.out, o.keysOut)) {
    throw new BackupRefused('--keys-out must be apart from --out: whoever holds the database copy and the KEK together can read every escrowed key');
  }
  const ring = readKekRing(o.kekFile);
  if (!existsSync(o.auditKeyFile)) throw new BackupRefused(`no audit key at ${o.auditKeyFile} (--audit-key-file)`);
  ensurePrivateDir(o.out);
  ensurePrivateDir(o.keysOut);
  const at = (o.clock ?? { now: () => new Date() }).now().toISOString();

  const keyFiles: string[] = [];
  const keep = (from: string, name = basename(from)) => {
    const to = join(o.keysOut, name);
    copyFileSync(from, to);
    restrictFile(to);
    keyFiles.push(to);
  };
  keep(o.kekFile, 'kek.key');
  for (const f of kekRingFiles(o.kekFile)) keep(f, `kek.key${basename(f).slice(basename(o.kekFile).length)}`);
  keep(o.auditKeyFile, 'audit.key');
  o.checkpointFiles.forEach((f, i) => {
    if (existsSync(f)) keep(f, o.checkpointFiles.length > 1 ? `audit-checkpoints-${i + 1}.jsonl` : 'audit-checkpoints.jsonl');
  });

  let database: string;
  if (o.databaseUrl) {
    database = join(o.out, PG_DUMP_FILE);
    const url = new URL(o.databaseUrl);
    const password = decodeURIComponent(url.password);
    url.password = '';
    await run('pg_dump', ['--format=custom', '--no-owner', `--file=${database}`, ...(o.pgSchema ? [`--schema=${o.pgSchema}`] : []), url.toString()], {
      ...process.env, ...(password ? { PGPASSWORD: password } : {}),
    });
    restrictFile(database);
  } else {
    const opened = await openDatabase({ dataDir: o.dataDir, existingOnly: true });
    database = sqliteDatabasePath(o.out);
    if (existsSync(database)) {
      await opened.close();
      throw new BackupRefused(`${database} already exists: back up into a new directory`);
    }
    try {
      await sql`vacuum into ${database}`.execute(opened.db);
    } finally {
      await opened.close();
    }
    restrictFile(database);
  }
  const source = o.databaseUrl ? displayDatabaseUrl(o.databaseUrl) : sqliteDatabasePath(o.dataDir);
  const manifest = (what: string) => `Keyward backup taken ${at} of ${source}\n${what}\n`;
  writeFileSync(join(o.out, 'BACKUP.txt'), manifest(`The database. Its keys are sealed under KEK ${ring.current.id}${ring.previous.length ? ` (and ${ring.previous.map((k) => k.id).join(', ')})` : ''}; the KEK ring and the audit key were backed up separately.`), { mode: 0o600 });
  writeFileSync(join(o.keysOut, 'BACKUP.txt'), manifest(`The KEK ring (kek.key${ring.previous.length ? ' and the files beside it' : ''}), the audit key and the signed audit checkpoints. Keep apart from the database backup.`), { mode: 0o600 });
  return { database, keyFiles, kekIds: [ring.current.id, ...ring.previous.map((k) => k.id)] };
}

/** Puts a SQLite backup and its key files into a new data directory. */
export function restoreSqlite(o: { from: string; keysFrom: string; dataDir: string }): string[] {
  const db = sqliteDatabasePath(o.from);
  if (!existsSync(db)) throw new BackupRefused(`no SQLite backup at ${db} (a PostgreSQL backup is restored with pg_restore: see the README)`);
  if (!existsSync(join(o.keysFrom, 'kek.key'))) throw new BackupRefused(`no kek.key in ${o.keysFrom}: restore needs the key backup too`);
  if (existsSync(sqliteDatabasePath(o.dataDir))) throw new BackupRefused(`${sqliteDatabasePath(o.dataDir)} already exists: restore into a new data directory`);
  ensurePrivateDir(o.dataDir);
  const restored: string[] = [];
  const put = (from: string, name: string) => {
    const to = join(o.dataDir, name);
    copyFileSync(from, to);
    ensurePrivateFile(to);
    restored.push(to);
  };
  put(db, 'keyward.db');
  for (const f of readdirSync(o.keysFrom).filter((n) => n.startsWith('kek.key') || n === 'audit.key' || n.startsWith('audit-checkpoints'))) {
    put(join(o.keysFrom, f), f);
  }
  return restored;
}
