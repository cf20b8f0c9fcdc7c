/**
 * What the escrow service is built from: the database, the KEK(s), a clock and the
 * configuration. Passed to `createApp(deps)`; nothing here is global.
 */
import type { Kysely } from 'kysely';
import type { Database } from './db/schema.ts';
import type { DbKind } from './db/open.ts';
import type { Kek } from './crypto/kek.ts';
import type { AuditKey } from './crypto/audit-key.ts';
import type { LookupCache } from './db/lookup-cache.ts';
import { KEY_SHOWN_SECONDS } from '../lib/keys/exposure.ts';

export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

export type AppConfig = {
  /** Cookies always get `Secure` (they also do on any request that arrives over https). */
  secureCookies: boolean;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Seconds a revealed key stays visible (five minutes). */
  hideAfterSeconds: number;
  accessTokenSeconds: number;
  refreshTokenDays: number;
  sessionHours: number;
  /** Seconds between agent check-ins we ask for; a "Check access" request asks for 1. */
  agentCheckinSeconds: number;
  rateLimits: { loginPerMinute: number; revealPerMinute: number };
  /** Days a retired or rejected key version is kept before it is destroyed. */
  retiredRetentionDays: number;
  /** Days finished operations are kept (each volume's newest is always kept). */
  finishedOperationRetentionDays: number;
  /** Reverse proxies (CIDRs) whose X-Forwarded-For/-Proto/-Host are believed; none by default. */
  trustedProxies: string[];
  /** Hours between full checks of an escrowed key (the device proves the key opens the volume). */
  keyCheckHours: number;
  /** Days after which a device credential is replaced at the next check-in. */
  agentCredentialRotateDays: number;
  /** Days after which a credential that was never replaced (the device stayed away) is refused. */
  agentCredentialMaxDays: number;
};

export const defaultConfig: AppConfig = {
  secureCookies: false,
  maxBodyBytes: 64 * 1024,
  hideAfterSeconds: KEY_SHOWN_SECONDS,
  accessTokenSeconds: 600,
  refreshTokenDays: 30,
  sessionHours: 12,
  agentCheckinSeconds: 60,
  rateLimits: { loginPerMinute: 10, revealPerMinute: 30 },
  retiredRetentionDays: 90,
  finishedOperationRetentionDays: 90,
  trustedProxies: [],
  keyCheckHours: 24,
  agentCredentialRotateDays: 30,
  agentCredentialMaxDays: 180,
};

export type AppDeps = {
  db: Kysely<Database>;
  dbKind: DbKind;
  /** The KEK new records are sealed with. */
  kek: Kek;
  /** Older KEKs still needed to open rows not yet re-wrapped. */
  previousKeks?: Kek[];
  /** Re-reads the KEK ring from disk (a row sealed under a KEK this instance does not hold yet). */
  reloadKeks?: () => void;
  /** Keys the audit chain (HMAC) and signs its checkpoints; kept outside the database. */
  auditKey: AuditKey;
  clock: Clock;
  config: AppConfig;
  /** Org row and access-token caches (SQLite only; its plugin must be on `db`, see withLookupCache). */
  lookupCache?: LookupCache;
};

export function nowIso(deps: Pick<AppDeps, 'clock'>): string {
  return deps.clock.now().toISOString();
}

export function findKek(deps: Pick<AppDeps, 'kek' | 'previousKeks' | 'reloadKeks'>): (id: string) => Kek | undefined {
  const find = (id: string) => (id === deps.kek.id ? deps.kek : deps.previousKeks?.find((k) => k.id === id));
  return (id) => {
    const found = find(id);
    if (found || !deps.reloadKeks) return found;
    // Another instance may have re-wrapped this row under a KEK whose file just arrived here.
    deps.reloadKeks();
    return find(id);
  };
}
