/**
 * The filters every audit view takes (API, admin console, owner's device audit, export):
 * device, actor, action, a time range and the `before` cursor, read from query parameters
 * with the contract's `AuditQuery`. Anything it cannot read is a 400 `invalid_input` naming
 * the parameter, never a query the database would choke on.
 */
import type { z } from 'zod';
import { AuditQuery, instantMs } from '../../lib/api/contract.ts';
import { ApiFailure } from '../errors.ts';

const DAY_MS = 86_400_000;

/** What to select; `ownerId` confines it to the events of that person's devices. */
export type AuditFilter = {
  ownerId?: string;
  deviceId?: string;
  actorId?: string;
  action?: string;
  /** Inclusive lower bound, as stored (`toISOString`). */
  from?: string;
  /** Exclusive upper bound, as stored. */
  to?: string;
  /** Only events with a smaller `seq`. */
  before?: number;
};

/** The filter's own fields (no scope, no cursor): what links to other pages must carry along. */
export type AuditFilterFields = Pick<AuditFilter, 'deviceId' | 'actorId' | 'action'> & { from?: string; to?: string };

export type ParsedAuditQuery = { filter: AuditFilter; fields: AuditFilterFields; limit: number | undefined };

/**
 * Reads the query. Empty values count as absent (an empty form field); a parameter given
 * twice, an unknown one, or a value of the wrong shape is refused.
 */
export function parseAuditQuery(queries: Record<string, string[]>, allowed: readonly (keyof AuditQuery)[] = AUDIT_QUERY_KEYS): ParsedAuditQuery {
  const given: Record<string, string> = {};
  for (const [name, values] of Object.entries(queries)) {
    if (!(allowed as readonly string[]).includes(name)) throw new ApiFailure(400, 'invalid_input', { field: name });
    if (values.length > 1) throw new ApiFailure(400, 'invalid_input', { field: name });
    if (values[0] !== '') given[name] = values[0];
  }
  const parsed = AuditQuery.safeParse(given);
  if (!parsed.success) throw new ApiFailure(400, 'invalid_input', { field: parsed.error.issues[0]?.path.map(String).join('.') || undefined });
  return auditFilterOf(parsed.data);
}

/** The filter of an already validated query (the API reads it with the endpoint's schema). */
export function auditFilterOf(q: z.output<typeof AuditQuery>): ParsedAuditQuery {
  const fields: AuditFilterFields = { deviceId: q.deviceId, actorId: q.actorId, action: q.action, from: q.from, to: q.to };
  const filter: AuditFilter = {
    deviceId: q.deviceId,
    actorId: q.actorId,
    action: q.action,
    from: q.from === undefined ? undefined : boundIso(q.from, 'from'),
    to: q.to === undefined ? undefined : boundIso(q.to, 'to'),
    before: q.before,
  };
  return { filter, fields, limit: q.limit };
}

export const AUDIT_QUERY_KEYS: readonly (keyof AuditQuery)[] = ['deviceId', 'actorId', 'action', 'from', 'to', 'before', 'limit'];

/** A bound as stored times compare: a date alone as `to` means the end of that day. */
function boundIso(value: string, which: 'from' | 'to'): string {
  const ms = instantMs(value) ?? 0;
  const dateOnly = value.length === 10;
  return new Date(which === 'to' && dateOnly ? ms + DAY_MS : ms).toISOString();
}

/** The query string of a view with these filters (and optionally a cursor), for links and forms. */
export function auditQueryString(fields: AuditFilterFields, extra: { before?: number } = {}): string {
  const params = new URLSearchParams();
  for (const key of ['deviceId', 'actorId', 'action', 'from', 'to'] as const) {
    const value = fields[key];
    if (value) params.set(key, value);
  }
  if (extra.before !== undefined) params.set('before', String(extra.before));
  const text = params.toString();
  return text ? `?${text}` : '';
}
