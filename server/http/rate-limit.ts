/**
 * Throttling for sign-in and reveal (OWASP Authentication Cheat Sheet, "Login Throttling").
 * A key counts hits in three fixed windows: a minute (allowing `limit` hits), a quarter of an
 * hour (3 × `limit`) and an hour (6 × `limit`). A client that keeps going past the minute's
 * allowance runs into the longer windows, so its wait grows (back-off) rather than meeting a
 * fixed lock; refused hits count too, so hammering while throttled keeps the wait growing.
 * Callers choose keys so that nobody can use this against someone else: per client, per
 * (account, client), per device cookie — never one key per account for everyone.
 *
 * One service instance keeps the counts in memory (SQLite: there is only one). Instances that
 * share PostgreSQL share the counts in the `rate_limits` table, one atomic upsert per hit.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { sql, type Kysely } from 'kysely';
import type { Locale } from '../../lib/api/contract.ts';
import { t } from '../../lib/i18n/index.ts';
import { formatWait } from '../../lib/i18n/format.ts';
import type { Database } from '../db/schema.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';

/** The windows every key is counted in, and how many times `limit` each allows. */
const WINDOWS = [
  { ms: 60_000, factor: 1 },
  { ms: 15 * 60_000, factor: 3 },
  { ms: 60 * 60_000, factor: 6 },
] as const;

export type RateDecision = { allowed: boolean; retryAfterMs: number };

type WindowCount = { tier: number; index: number; hits: number };

function windowIndex(tier: number, now: number): number {
  return Math.floor(now / WINDOWS[tier].ms);
}

/** Over the allowance in any window: wait until the last of those windows ends. */
function decide(counts: readonly WindowCount[], limit: number, now: number): RateDecision {
  let until = 0;
  for (const c of counts) {
    const w = WINDOWS[c.tier];
    if (c.hits > limit * w.factor) until = Math.max(until, (c.index + 1) * w.ms);
  }
  if (until === 0) return { allowed: true, retryAfterMs: 0 };
  // Another instance's clock may be a little ahead: always ask for at least a second.
  return { allowed: false, retryAfterMs: Math.max(1000, until - now) };
}

export abstract class RateLimiter {
  /** Counts one hit for `key` and says whether it is within the allowance, and if not, how long to wait. */
  abstract consume(key: string, limit: number, now: number): Promise<RateDecision>;

  /** Counts one hit; false when the key is over its allowance. */
  async hit(key: string, limit: number, now: number): Promise<boolean> {
    return (await this.consume(key, limit, now)).allowed;
  }
}

export class MemoryRateLimiter extends RateLimiter {
  private readonly windows = new Map<string, { index: number; hits: number }>();

  async consume(key: string, limit: number, now: number): Promise<RateDecision> {
    if (this.windows.size > 50_000) this.prune(now);
    const counts = WINDOWS.map((_, tier) => {
      const id = `${tier}|${key}`;
      const w = this.windows.get(id);
      // Same rule as the table: a hit from a clock set back counts in the newest window.
      const index = Math.max(windowIndex(tier, now), w?.index ?? 0);
      const hits = w?.index === index ? w.hits + 1 : 1;
      this.windows.set(id, { index, hits });
      return { tier, index, hits };
    });
    return decide(counts, limit, now);
  }

  private prune(now: number): void {
    for (const [id, w] of this.windows) {
      const tier = Number(id.slice(0, id.indexOf('|')));
      if (w.index < windowIndex(tier, now)) this.windows.delete(id);
    }
  }
}

const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Counts in PostgreSQL, shared by every instance: one row per key and window length, reset
 * when a new window begins. Keys are stored hashed (they hold e-mail and IP addresses).
 */
export class PostgresRateLimiter extends RateLimiter {
  private readonly db: Kysely<Database>;
  private lastPrune = 0;

  constructor(db: Kysely<Database>) {
    super();
    this.db = db;
  }

  async consume(key: string, limit: number, now: number): Promise<RateDecision> {
    const rows = WINDOWS.map((w, tier) => {
      const index = windowIndex(tier, now);
      return {
        bucket: createHash('sha256').update(`${tier}|${key}`).digest('hex'),
        window_index: index,
        hits: 1,
        expires_at: new Date((index + 1) * w.ms).toISOString(),
      };
    });
    // One statement for every window: a row in a newer window starts again at 1; a hit an
    // instance with a slower clock counts for an older window goes into the current one.
    const counted = await this.db
      .insertInto('rate_limits')
      .values(rows)
      .onConflict((oc) =>
        oc.column('bucket').doUpdateSet({
          hits: sql<number>`case when excluded.window_index > rate_limits.window_index then 1 else rate_limits.hits + 1 end`,
          window_index: sql<number>`greatest(rate_limits.window_index, excluded.window_index)`,
          expires_at: sql<string>`greatest(rate_limits.expires_at, excluded.expires_at)`,
        }),
      )
      .returning(['bucket', 'window_index', 'hits'])
      .execute();
    await this.pruneNowAndThen(now);
    const counts = counted.map((row) => ({ tier: rows.findIndex((r) => r.bucket === row.bucket), index: Number(row.window_index), hits: Number(row.hits) }));
    return decide(counts, limit, now);
  }

  /** Rows of windows that have ended are deleted every ten minutes (by whichever instance gets there). */
  private async pruneNowAndThen(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.db.deleteFrom('rate_limits').where('expires_at', '<', new Date(now).toISOString()).execute();
  }
}

export function createRateLimiter(deps: Pick<AppDeps, 'db' | 'dbKind'>): RateLimiter {
  return deps.dbKind === 'postgres' ? new PostgresRateLimiter(deps.db) : new MemoryRateLimiter();
}

export type Bucket = { key: string; limit: number };

/**
 * Counts one hit against each bucket in turn and stops at the first that is over its allowance,
 * so a client already refused by its own bucket uses up nobody else's.
 */
export async function consumeAll(limiter: RateLimiter, buckets: readonly Bucket[], now: number): Promise<RateDecision> {
  for (const b of buckets) {
    const decision = await limiter.consume(b.key, b.limit, now);
    if (!decision.allowed) return decision;
  }
  return { allowed: true, retryAfterMs: 0 };
}

/**
 * The part of a client's address that identifies it for throttling: an IPv4 address, or the
 * /64 an IPv6 address is in (one subscriber usually has a whole /64 to pick addresses from).
 */
export function clientBucket(ip: string): string {
  if (isIP(ip) !== 6 || ip.includes('.')) return ip;
  const [head, tail] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

export { formatWait } from '../../lib/i18n/format.ts';

export function retryAfterSeconds(decision: RateDecision): string {
  return String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
}

/** "Too many attempts. Try again in 3 minutes." in the reader's language. */
export function waitMessage(locale: Locale, decision: RateDecision): string {
  return t(locale, 'error.rate_limited_wait', { wait: formatWait(locale, decision.retryAfterMs) });
}

/** The 429 for a refused hit: says how long to wait, in words and in `Retry-After`. */
export function rateLimited(locale: Locale, decision: RateDecision): ApiFailure {
  return new ApiFailure(429, 'rate_limited', { detail: waitMessage(locale, decision), headers: { 'Retry-After': retryAfterSeconds(decision) } });
}
