/**
 * The IT console's device directory at fleet scale: search (device name, owner name or email
 * anywhere in them; serial number exact or from its start), filters (platform, ownership, key
 * status, check-in stale, escrow missing), sort by name, keyset paging (a page costs the same
 * at any depth) and counts per status. Filters read what the device index stores
 * (device-index.ts), refreshed before every read; a page's rows are then built with a fixed
 * number of queries. A search takes one page of each kind of match, each read through its
 * own index, and their union's first page is the answer.
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { z } from 'zod';
import { KeyStatus, Ownership, Platform, SerialNumber, type Device } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import type { Database, DeviceTable } from '../db/schema.ts';
import { ApiFailure } from '../errors.ts';
import { buildDeviceViews, getOrg, staleBefore } from './device-views.ts';
import { refreshDeviceIndex } from './device-index.ts';

export const DIRECTORY_PAGE = 50;
export const DIRECTORY_PAGE_MAX = 500;

const flag = z.enum(['1', 'true']).transform(() => true).optional();

/** The console's query string (and `GET /api/v1/devices?scope=all`). */
export const DirectoryQuery = z.object({
  q: z.string().trim().max(200).transform((v) => v || undefined).optional(),
  platform: z.optional(Platform),
  ownership: z.optional(Ownership),
  status: z.optional(KeyStatus),
  stale: flag,
  escrowMissing: flag,
  sort: z.enum(['name', '-name']).optional(),
  after: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(DIRECTORY_PAGE_MAX).optional(),
});
export type DirectoryQuery = z.infer<typeof DirectoryQuery>;

/** The query from request parameters; a bad one is `invalid_input` naming the field. */
export function parseDirectoryQuery(params: Record<string, string | undefined>): DirectoryQuery {
  const parsed = DirectoryQuery.safeParse(Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) throw new ApiFailure(400, 'invalid_input', { field: String(parsed.error.issues[0]?.path[0] ?? 'q') });
  return parsed.data;
}

type Eb = ExpressionBuilder<Database, 'devices'>;
type Position = { name: string; id: string };

function encodePosition(d: Pick<DeviceTable, 'name' | 'id'>): string {
  return Buffer.from(JSON.stringify([d.name, d.id])).toString('base64url');
}

function decodePosition(after: string): Position {
  try {
    const value: unknown = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { name: value[0], id: value[1] };
  } catch {
    // Falls through to the refusal below.
  }
  throw new ApiFailure(400, 'invalid_input', { field: 'after' });
}

function isStale(eb: Eb, cutoff: string): Expression<SqlBool> {
  return eb.or([eb('last_checkin_at', 'is', null), eb('last_checkin_at', '<', cutoff)]);
}

/** LIKE matching `text` literally (its own % and _ escaped). */
function containing(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/**
 * The serial numbers a search for `text` matches, exact or starting with it in any case, as a
 * range of `serial_search` (lower case, compared byte by byte); null when no serial can match.
 */
export function serialRange(text: string): { from: string; below: string } | null {
  if (!SerialNumber.safeParse(text).success) return null;
  const from = text.toLowerCase();
  // Printable ASCII only, so the last character's successor is at most DEL: still one byte.
  return { from, below: `${from.slice(0, -1)}${String.fromCharCode(from.charCodeAt(from.length - 1) + 1)}` };
}

type Match = (eb: Eb) => Expression<SqlBool>;

/** Device name, owner name or email contains `text` (any case). */
function textMatch(text: string): Match {
  return (eb) => sql<SqlBool>`${eb.ref('search_text')} like ${containing(text)} escape '\\'`;
}

/** The serial number is in `range` (exact or prefix match). */
function serialMatch(range: { from: string; below: string }): Match {
  return (eb) => eb.and([eb('serial_search', '>=', range.from), eb('serial_search', '<', range.below)]);
}

/** Every filter but the search. */
function where(eb: Eb, query: DirectoryQuery, cutoff: string): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  if (query.platform) parts.push(eb('platform', '=', query.platform));
  if (query.ownership) parts.push(eb('ownership', '=', query.ownership));
  if (query.escrowMissing) parts.push(eb('escrow_missing', '=', 1));
  if (query.stale) parts.push(isStale(eb, cutoff));
  if (query.status) {
    parts.push(eb.or([
      eb.and([isStale(eb, cutoff), eb('key_status_stale', '=', query.status)]),
      eb.and([eb.not(isStale(eb, cutoff)), eb('key_status', '=', query.status)]),
    ]));
  }
  return eb.and(parts);
}

export type DirectoryPage = { devices: Device[]; next: string | null };

/** One page of the filtered, sorted directory. */
export async function listDirectory(deps: AppDeps, query: DirectoryQuery): Promise<DirectoryPage> {
  await refreshDeviceIndex(deps);
  const org = await getOrg(deps.db);
  const now = deps.clock.now();
  const cutoff = staleBefore(org, now);
  const limit = query.limit ?? DIRECTORY_PAGE;
  const desc = query.sort === '-name';
  const position = query.after ? decodePosition(query.after) : null;
  const direction = desc ? 'desc' : 'asc';
  /** The first page of devices after `position` that pass the filters and `match`. */
  const pageOf = (match: Match | null) => {
    let q = deps.db
      .selectFrom('devices')
      .selectAll()
      .where((eb) => where(eb, query, cutoff))
      .orderBy('name', direction)
      .orderBy('id', direction)
      .limit(limit + 1);
    if (match) q = q.where(match);
    if (position) {
      const op = desc ? '<' : '>';
      q = q.where((eb) => eb.or([eb('name', op, position.name), eb.and([eb('name', '=', position.name), eb('id', op, position.id)])]));
    }
    return q;
  };
  const serial = query.q ? serialRange(query.q) : null;
  let rows: DeviceTable[];
  if (!query.q) rows = await pageOf(null).execute();
  else if (!serial) rows = await pageOf(textMatch(query.q)).execute();
  else {
    rows = await deps.db
      .selectFrom(pageOf(textMatch(query.q)).as('by_text'))
      .selectAll()
      .union(deps.db.selectFrom(pageOf(serialMatch(serial)).as('by_serial')).selectAll())
      .orderBy('name', direction)
      .orderBy('id', direction)
      .limit(limit + 1)
      .execute();
  }
  const page = rows.slice(0, limit);
  return { devices: await buildDeviceViews(deps.db, org, page, now), next: rows.length > limit ? encodePosition(page[page.length - 1]) : null };
}

export type StatusCounts = Record<KeyStatus, number> & { total: number; stale: number; escrowMissing: number };

/** Devices per status (as the console shows them now), stale, and with escrow missing. */
export async function countDirectory(deps: AppDeps): Promise<StatusCounts> {
  await refreshDeviceIndex(deps);
  const org = await getOrg(deps.db);
  const cutoff = staleBefore(org, deps.clock.now());
  const rows = await deps.db
    .selectFrom('devices')
    .select((eb) => [
      eb.case().when(isStale(eb, cutoff)).then(eb.ref('key_status_stale')).else(eb.ref('key_status')).end().as('status'),
      eb.case().when(isStale(eb, cutoff)).then(1).else(0).end().as('stale'),
      'escrow_missing',
      eb.fn.countAll<number | string>().as('n'),
    ])
    .groupBy(['status', 'stale', 'escrow_missing'])
    .execute();
  const counts: StatusCounts = { escrowed: 0, missing: 0, pending: 0, failed: 0, broken: 0, total: 0, stale: 0, escrowMissing: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    const status = KeyStatus.safeParse(r.status);
    if (status.success) counts[status.data] += n;
    counts.total += n;
    if (Number(r.stale) === 1) counts.stale += n;
    if (r.escrow_missing === 1) counts.escrowMissing += n;
  }
  return counts;
}

/** Every device matching the filters, page by page (exports); rows only, views built per page. */
export async function* allDirectoryPages(deps: AppDeps, query: DirectoryQuery): AsyncGenerator<Device[]> {
  let after: string | undefined;
  for (;;) {
    const page = await listDirectory(deps, { ...query, after, limit: DIRECTORY_PAGE_MAX });
    if (page.devices.length) yield page.devices;
    if (!page.next) return;
    after = page.next;
  }
}
