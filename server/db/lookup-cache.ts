/**
 * In-process caches of the two lookups nearly every request makes: the organisation row and
 * the account behind an extension's access token. Used on SQLite only, where one process
 * owns the database through one connection; on PostgreSQL several instances share the data
 * and every request reads it afresh.
 *
 * Nothing here trusts a time-to-live. Every write this process sends that touches `org`,
 * `users`, `oauth_grants` or `oauth_tokens` empties both caches the moment it is compiled
 * (a Kysely plugin, so no write path can forget it), and a lookup that started before such a
 * write never stores its answer (a generation count). Lookups read on the read connection,
 * which sees only committed data, so between a write and its (group) commit a lookup may read
 * and store the old rows; every commit to the file — this process's batches as well as another
 * process's writes (the command line on the same file) — moves the read connection's
 * `data_version`, which each lookup checks before it answers, emptying the caches when it moved.
 * A lookup inside a transaction (on the write connection) reads afresh and stores nothing.
 */
import { sql, type KyselyPlugin, type OperationNode, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, OrgTable, UserTable } from './schema.ts';

type Db = Kysely<Database>;

const WATCHED = new Set(['org', 'users', 'oauth_grants', 'oauth_tokens']);
/** Answers kept at most; past that the cache starts again (a bound on memory, not on staleness). */
const MAX_ACCESS_ENTRIES = 50_000;
const WATCHED_IN_RAW_SQL = /\b(org|users|oauth_grants|oauth_tokens)\b/i;

/** What an access token resolves to, kept while nothing about it changes. */
export type CachedAccess = { user: UserTable; grantId: string; tokenExpiresAt: string; grantLastUsedAt: string };

function tablesOf(node: unknown, into: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) tablesOf(child, into);
    return;
  }
  const record = node as Record<string, unknown>;
  if (record.kind === 'TableNode') {
    const table = record.table as { identifier?: { name?: unknown } } | undefined;
    if (typeof table?.identifier?.name === 'string') into.add(table.identifier.name);
    return;
  }
  for (const value of Object.values(record)) tablesOf(value, into);
}

/** True for `update oauth_grants set last_used_at = …`: the "last used" mark no cached answer holds. */
function onlyMarksGrantUsed(node: RootOperationNode, tables: Set<string>): boolean {
  if (node.kind !== 'UpdateQueryNode' || tables.size !== 1 || !tables.has('oauth_grants')) return false;
  return (node.updates ?? []).every((u) => {
    const column = u.column as OperationNode & { column?: { name?: unknown } };
    return column.column?.name === 'last_used_at';
  });
}

/** True when running `node` may change what a cached lookup would answer. */
export function changesCachedRows(node: RootOperationNode): boolean {
  if (node.kind === 'SelectQueryNode') return false;
  if (node.kind === 'RawNode') return node.sqlFragments.some((f) => WATCHED_IN_RAW_SQL.test(f));
  const tables = new Set<string>();
  tablesOf(node, tables);
  if (![...tables].some((t) => WATCHED.has(t))) return false;
  return !onlyMarksGrantUsed(node, tables);
}

export class LookupCache {
  private generation = 0;
  private org: OrgTable | null = null;
  private readonly access = new Map<string, CachedAccess>();
  private dataVersion: number | null = null;

  /** Empties both caches; lookups already under way will not store what they read. */
  invalidate(): void {
    this.generation += 1;
    this.org = null;
    this.access.clear();
  }

  /** The plugin to install on the Kysely instance every write of this process goes through. */
  plugin(): KyselyPlugin {
    return {
      transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => {
        if (changesCachedRows(args.node)) this.invalidate();
        return args.node;
      },
      transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => args.result,
    };
  }

  /** Empties the caches when anything was committed to the file since the last look. */
  private async noticeCommits(db: Db): Promise<void> {
    const row = (await sql<{ data_version: number }>`pragma data_version`.execute(db)).rows[0];
    const version = Number(row?.data_version ?? 0);
    if (this.dataVersion !== null && version !== this.dataVersion) this.invalidate();
    this.dataVersion = version;
  }

  async orgRow(db: Db, read: () => Promise<OrgTable>): Promise<OrgTable> {
    // Inside a transaction (the write connection, with the batch's uncommitted rows) the row is read afresh.
    if (db.isTransaction) return read();
    await this.noticeCommits(db);
    if (this.org) return this.org;
    const generation = this.generation;
    const org = await read();
    if (generation === this.generation) this.org = org;
    return org;
  }

  async accessFor(db: Db, tokenHash: string, read: () => Promise<CachedAccess | null>): Promise<CachedAccess | null> {
    if (db.isTransaction) return read();
    await this.noticeCommits(db);
    const hit = this.access.get(tokenHash);
    if (hit) return hit;
    const generation = this.generation;
    const found = await read();
    // Only answers that let someone in are kept; a refusal is read again next time.
    if (found && generation === this.generation) {
      if (this.access.size >= MAX_ACCESS_ENTRIES) this.access.clear();
      this.access.set(tokenHash, found);
    }
    return found;
  }

  /** Records a new "last used" mark on a cached answer (the write itself leaves the cache be). */
  markUsed(tokenHash: string, at: string): void {
    const hit = this.access.get(tokenHash);
    if (hit) hit.grantLastUsedAt = at;
  }
}

/** The database handle and cache a service instance uses: cached on SQLite, not on PostgreSQL. */
export function cachedLookups(db: Db, kind: 'sqlite' | 'postgres'): { db: Db; lookupCache?: LookupCache } {
  if (kind !== 'sqlite') return { db };
  const lookupCache = new LookupCache();
  return { db: db.withPlugin(lookupCache.plugin()), lookupCache };
}
