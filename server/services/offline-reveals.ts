/**
 * Reveals done offline from the extension's vault, written to the audit log when reported
 * (DESIGN.md › Offline). The vault only ever holds a key its user revealed online, so an entry
 * is believed only when it matches that: the device, volume and key version exist and belong
 * together, the reporter may still reveal the device's key, they revealed that version online
 * before, and the reveal's time lies between that first online reveal and now (give or take
 * some clock skew). One entry that does not match refuses the whole report (400 naming the
 * entry and field) and nothing of it is written; entries are idempotent by their key.
 */
import type { OfflineRevealReport } from '../../lib/api/contract.ts';
import { instantMs } from '../../lib/api/contract.ts';
import { t } from '../../lib/i18n/index.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import { ApiFailure } from '../errors.ts';
import { assertCanReveal, type UserActor } from './access.ts';
import type { Trx } from './key-versions.ts';
import type { RequestMeta } from './store-key.ts';

/** How far a browser's clock may be off from the service's. */
export const CLOCK_SKEW_MS = 5 * 60_000;

type Entry = OfflineRevealReport['reveals'][number];

/** 400 naming the entry (`reveals.<index>.<field>`); the message counts entries from 1. */
function invalidEntry(meta: RequestMeta, index: number, field: keyof Entry): ApiFailure {
  return new ApiFailure(400, 'offline_reveal_invalid', {
    field: `reveals.${index}.${field}`,
    detail: t(meta.locale, 'error.offline_reveal_invalid', { entry: index + 1 }),
  });
}

/** When the reporter first revealed this volume's key version online, or null if they never did. */
async function firstOnlineReveal(trx: Trx, user: UserActor, entry: Entry): Promise<number | null> {
  const reveals = await trx
    .selectFrom('audit_events')
    .select(['at', 'detail'])
    .where('actor_id', '=', user.id)
    .where('action', '=', 'key.revealed')
    .where('device_id', '=', entry.deviceId)
    .where('volume_id', '=', entry.volumeId)
    .orderBy('seq')
    .execute();
  const first = reveals.find((r) => {
    try {
      return (JSON.parse(r.detail) as { version?: unknown }).version === entry.version;
    } catch {
      return false;
    }
  });
  return first ? Date.parse(first.at) : null;
}

/** Throws `offline_reveal_invalid` unless the entry matches a key the reporter really had. */
async function checkEntry(trx: Trx, deps: AppDeps, user: UserActor, entry: Entry, index: number, meta: RequestMeta): Promise<void> {
  const device = await trx.selectFrom('devices').select(['owner_id', 'ownership']).where('id', '=', entry.deviceId).executeTakeFirst();
  if (!device) throw invalidEntry(meta, index, 'deviceId');
  try {
    assertCanReveal(user, { ownerId: device.owner_id, ownership: device.ownership }, 'offline vault');
  } catch (error) {
    if (error instanceof ApiFailure) throw invalidEntry(meta, index, 'deviceId');
    throw error;
  }
  const volume = await trx.selectFrom('volumes').select('id').where('id', '=', entry.volumeId).where('device_id', '=', entry.deviceId).executeTakeFirst();
  if (!volume) throw invalidEntry(meta, index, 'volumeId');
  const version = await trx.selectFrom('key_versions').select('id').where('volume_id', '=', entry.volumeId).where('version', '=', entry.version).executeTakeFirst();
  if (!version) throw invalidEntry(meta, index, 'version');
  const firstRevealedAt = await firstOnlineReveal(trx, user, entry);
  if (firstRevealedAt === null) throw invalidEntry(meta, index, 'version');
  const at = instantMs(entry.at) ?? Number.NaN;
  const now = deps.clock.now().getTime();
  if (!(at <= now + CLOCK_SKEW_MS && at >= firstRevealedAt - CLOCK_SKEW_MS)) throw invalidEntry(meta, index, 'at');
}

export async function recordOfflineReveals(deps: AppDeps, user: UserActor, report: OfflineRevealReport, meta: RequestMeta): Promise<{ recorded: number; duplicates: number }> {
  let recorded = 0;
  let duplicates = 0;
  const at = nowIso(deps);
  await deps.db.transaction().execute(async (trx) => {
    for (const [index, r] of report.reveals.entries()) {
      const key = `offline-reveal:${user.id}:${r.idempotencyKey}`;
      const seen = await trx.selectFrom('idempotency').select('key').where('key', '=', key).executeTakeFirst();
      if (seen) {
        duplicates += 1;
        continue;
      }
      await checkEntry(trx, deps, user, r, index, meta);
      // A copy of this report racing in another transaction may have claimed the key meanwhile.
      const claimed = await trx
        .insertInto('idempotency')
        .values({ key, scope: 'offline-reveal', result: r.deviceId, created_at: at })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) !== 1) {
        duplicates += 1;
        continue;
      }
      await appendAudit(trx, deps, at, {
        actorId: user.id, actorKind: 'user', action: 'key.revealed_offline', deviceId: r.deviceId, volumeId: r.volumeId, detail: { version: r.version, revealedAt: r.at }, ip: meta.ip,
      });
      recorded += 1;
    }
  });
  return { recorded, duplicates };
}
