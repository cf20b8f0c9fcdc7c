/**
 * Reading the audit log for people (admins: everything; owners: events about their devices;
 * helpdesk: refused, saying that only admins see it) and
 * recording reveals done offline from the extension's vault (idempotent per report entry).
 */
import type { z } from 'zod';
import type { AuditEvent, Locale, OfflineRevealReport } from '../../lib/api/contract.ts';
import { t } from '../../lib/i18n/index.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import { assertCanReveal, type UserActor } from './access.ts';
import { ApiFailure } from '../errors.ts';

export type AuditFilter = { ownerId?: string; deviceId?: string; limit: number };

/** The answer to someone who may not read the audit log (helpdesk): 403, only admins see it. */
export function auditLogRefusal(locale: Locale): ApiFailure {
  return new ApiFailure(403, 'forbidden', { detail: t(locale, 'portal.audit_admins_only') });
}

export async function listAuditEvents(deps: AppDeps, filter: AuditFilter): Promise<AuditEvent[]> {
  let q = deps.db
    .selectFrom('audit_events')
    .leftJoin('users', 'users.id', 'audit_events.actor_id')
    .leftJoin('devices', 'devices.id', 'audit_events.device_id')
    .select([
      'audit_events.seq', 'audit_events.at', 'audit_events.actor_id', 'audit_events.actor_kind', 'audit_events.action',
      'audit_events.device_id', 'audit_events.volume_id', 'audit_events.detail', 'audit_events.hash', 'users.name as actor_name', 'devices.name as device_name',
    ])
    .orderBy('audit_events.seq', 'desc')
    .limit(filter.limit);
  if (filter.ownerId) q = q.where('devices.owner_id', '=', filter.ownerId);
  if (filter.deviceId) q = q.where('audit_events.device_id', '=', filter.deviceId);
  const rows = await q.execute();
  return rows.map((r) => {
    let detail: Record<string, unknown> = {};
    try {
      detail = JSON.parse(r.detail) as Record<string, unknown>;
    } catch {
      detail = {};
    }
    return {
      seq: Number(r.seq),
      at: r.at,
      actorId: r.actor_id,
      actorName: r.actor_kind === 'agent' ? (r.device_name ?? null) : (r.actor_name ?? null),
      actorKind: r.actor_kind as AuditEvent['actorKind'],
      action: r.action,
      deviceId: r.device_id,
      volumeId: r.volume_id,
      detail,
      hash: r.hash,
    };
  });
}

export async function recordOfflineReveals(
  deps: AppDeps, user: UserActor, report: z.infer<typeof OfflineRevealReport>, ip: string,
): Promise<{ recorded: number; duplicates: number }> {
  let recorded = 0;
  let duplicates = 0;
  const at = nowIso(deps);
  await deps.db.transaction().execute(async (trx) => {
    for (const r of report.reveals) {
      const key = `offline-reveal:${user.id}:${r.idempotencyKey}`;
      const seen = await trx.selectFrom('idempotency').select('key').where('key', '=', key).executeTakeFirst();
      if (seen) {
        duplicates += 1;
        continue;
      }
      const device = await trx.selectFrom('devices').select(['owner_id', 'ownership']).where('id', '=', r.deviceId).executeTakeFirst();
      if (!device) throw new ApiFailure(404, 'not_found');
      assertCanReveal(user, { ownerId: device.owner_id, ownership: device.ownership }, 'offline vault');
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
        actorId: user.id, actorKind: 'user', action: 'key.revealed_offline', deviceId: r.deviceId, volumeId: r.volumeId, detail: { version: r.version, revealedAt: r.at }, ip,
      });
      recorded += 1;
    }
  });
  return { recorded, duplicates };
}
