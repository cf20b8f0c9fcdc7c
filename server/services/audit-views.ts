/**
 * Reading the audit log for people (admins: everything; owners: events about their devices;
 * helpdesk: refused, saying that only admins see it). Every view pages through the whole log
 * newest first by `seq` (keyset paging: a `before` cursor, never an offset), with the filters
 * of `audit-filter.ts`; the export walks it oldest first in pages, so no view is limited to the
 * newest events and none holds a big log in memory.
 */
import type { AuditEvent, AuditList, Locale } from '../../lib/api/contract.ts';
import { t } from '../../lib/i18n/index.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { AuditFilter } from './audit-filter.ts';

/** Events one export query reads at a time. */
const EXPORT_PAGE = 500;

/** The answer to someone who may not read the audit log (helpdesk): 403, only admins see it. */
export function auditLogRefusal(locale: Locale): ApiFailure {
  return new ApiFailure(403, 'forbidden', { detail: t(locale, 'portal.audit_admins_only') });
}

/** Newest first (views, from `filter.before` down), or oldest first after a `seq` (export). */
export type Order = { by: 'newest' } | { by: 'oldest'; after: number };

/** The query behind every view (exported so its plan can be checked against the indexes). */
export function auditEventsQuery(db: AppDeps['db'], filter: AuditFilter, order: Order, limit: number) {
  let q = db
    .selectFrom('audit_events')
    .leftJoin('users', 'users.id', 'audit_events.actor_id')
    .leftJoin('devices', 'devices.id', 'audit_events.device_id')
    .select([
      'audit_events.seq', 'audit_events.at', 'audit_events.actor_id', 'audit_events.actor_kind', 'audit_events.action',
      'audit_events.device_id', 'audit_events.volume_id', 'audit_events.detail', 'audit_events.hash', 'users.name as actor_name', 'devices.name as device_name',
    ])
    .limit(limit);
  q = order.by === 'newest' ? q.orderBy('audit_events.seq', 'desc') : q.orderBy('audit_events.seq', 'asc').where('audit_events.seq', '>', order.after);
  if (filter.before !== undefined) q = q.where('audit_events.seq', '<', filter.before);
  // Through the device index: an owner's few devices, not a walk through everyone's events.
  if (filter.ownerId !== undefined) {
    const ownerId = filter.ownerId;
    q = q.where('audit_events.device_id', 'in', (eb) => eb.selectFrom('devices as owned').select('owned.id').where('owned.owner_id', '=', ownerId));
  }
  if (filter.deviceId !== undefined) q = q.where('audit_events.device_id', '=', filter.deviceId);
  if (filter.actorId !== undefined) q = q.where('audit_events.actor_id', '=', filter.actorId);
  if (filter.action !== undefined) q = q.where('audit_events.action', '=', filter.action);
  if (filter.from !== undefined) q = q.where('audit_events.at', '>=', filter.from);
  if (filter.to !== undefined) q = q.where('audit_events.at', '<', filter.to);
  return q;
}

async function selectEvents(deps: Pick<AppDeps, 'db'>, filter: AuditFilter, order: Order, limit: number): Promise<AuditEvent[]> {
  const rows = await auditEventsQuery(deps.db, filter, order, limit).execute();
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
      deviceName: r.device_name ?? null,
      volumeId: r.volume_id,
      detail,
      hash: r.hash,
    };
  });
}

/** One page, newest first; `nextCursor` is set when older matching events exist. */
export async function listAuditEvents(deps: Pick<AppDeps, 'db'>, filter: AuditFilter, limit: number): Promise<AuditList> {
  const rows = await selectEvents(deps, filter, { by: 'newest' }, limit + 1);
  const events = rows.slice(0, limit);
  return { events, nextCursor: rows.length > limit ? events[events.length - 1].seq : null };
}

/** Every matching event, oldest first, read one page at a time (for the JSON-lines export). */
export async function* allAuditEvents(deps: Pick<AppDeps, 'db'>, filter: AuditFilter): AsyncGenerator<AuditEvent> {
  let after = 0;
  for (;;) {
    const page = await selectEvents(deps, filter, { by: 'oldest', after }, EXPORT_PAGE);
    yield* page;
    if (page.length < EXPORT_PAGE) return;
    after = page[page.length - 1].seq;
  }
}
