/**
 * The IT console's device list for a fleet of any size: a GET search/filter form (so a view
 * is a link), counts per status, one page of devices with keyset paging, CSV and JSON export
 * of the current filter (device facts and statuses only: never a key), and the bulk rotation
 * of encrypted devices with no key escrowed, with a page that follows its progress.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { KeyStatus, Ownership, Platform, type Device } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import { IT_ROLES, readsWholeAuditLog } from '../services/access.ts';
import { allDirectoryPages, countDirectory, listDirectory, parseDirectoryQuery, type DirectoryQuery, type StatusCounts } from '../services/device-directory.ts';
import { findBulkAction, runBulkRotation, startBulkRotation } from '../services/bulk-rotation.ts';
import type { BulkActionTable } from '../db/schema.ts';
import { actorOf, formatTime } from './session.ts';
import { csrfForm, requireRole, requireSession } from './guards.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { statusBadge } from './device-render.ts';
import { PLATFORM_NAMES, platformLabel } from './platform-icons.ts';

const FILTER_KEYS = ['q', 'platform', 'ownership', 'status', 'stale', 'escrowMissing', 'sort'] as const;

/** The filters and page size as a query string (`after` only when given in `extra`). */
function queryString(query: DirectoryQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = query[key];
    if (value === true) params.set(key, '1');
    else if (typeof value === 'string') params.set(key, value);
  }
  if (query.limit) params.set('limit', String(query.limit));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function filterForm(c: AppContext, query: DirectoryQuery, error: string | null): Html {
  const selected = (a: string | undefined, b: string) => (a === b ? 'selected' : '');
  return html`<form method="get" action="/admin/devices" class="card" id="device-filter" role="search">
    ${error ? html`<p class="error" role="alert" id="device-filter-error">${error}</p>` : ''}
    <div class="actions">
      <span class="field"><label for="filter-q">${tr(c, 'portal.fleet.search')}</label><input type="search" id="filter-q" name="q" maxlength="200" value="${query.q ?? ''}" aria-describedby="filter-q-hint"><span class="hint" id="filter-q-hint">${tr(c, 'portal.fleet.search_hint')}</span></span>
      <span class="field"><label for="filter-platform">${tr(c, 'portal.platform')}</label><select id="filter-platform" name="platform"><option value="">${tr(c, 'portal.fleet.any')}</option>${Platform.options.map((p) => html`<option value="${p}" ${selected(query.platform, p)}>${PLATFORM_NAMES[p]}</option>`)}</select></span>
      <span class="field"><label for="filter-ownership">${tr(c, 'portal.ownership')}</label><select id="filter-ownership" name="ownership"><option value="">${tr(c, 'portal.fleet.any')}</option>${Ownership.options.map((o) => html`<option value="${o}" ${selected(query.ownership, o)}>${tr(c, `ui.ownership.${o}`)}</option>`)}</select></span>
      <span class="field"><label for="filter-status">${tr(c, 'ui.status')}</label><select id="filter-status" name="status"><option value="">${tr(c, 'portal.fleet.any')}</option>${KeyStatus.options.map((s) => html`<option value="${s}" ${selected(query.status, s)}>${tr(c, `ui.status.${s}`)}</option>`)}</select></span>
      <span class="field"><label for="filter-sort">${tr(c, 'portal.fleet.sort')}</label><select id="filter-sort" name="sort"><option value="name">${tr(c, 'portal.fleet.sort_name')}</option><option value="-name" ${selected(query.sort, '-name')}>${tr(c, 'portal.fleet.sort_name_desc')}</option></select></span>
    </div>
    <div class="actions">
      <label><input type="checkbox" name="stale" value="1" ${query.stale ? 'checked' : ''}> ${tr(c, 'portal.fleet.stale')}</label>
      <label><input type="checkbox" name="escrowMissing" value="1" ${query.escrowMissing ? 'checked' : ''}> ${tr(c, 'portal.fleet.escrow_missing')}</label>
      <button type="submit">${tr(c, 'portal.fleet.apply')}</button> <a href="/admin/devices">${tr(c, 'portal.fleet.clear')}</a>
    </div>
  </form>`;
}

function countsBlock(c: AppContext, counts: StatusCounts): Html {
  const link = (q: DirectoryQuery, label: string, n: number, key: string) => html`<li><a href="/admin/devices${queryString(q)}" data-count="${key}">${label}: <strong>${n}</strong></a></li>`;
  return html`<section class="card" id="device-counts" aria-labelledby="device-counts-title"><h2 id="device-counts-title">${tr(c, 'portal.fleet.counts')}</h2><ul>
    ${link({}, tr(c, 'portal.admin_devices'), counts.total, 'total')}
    ${KeyStatus.options.map((s) => link({ status: s }, tr(c, `ui.status.${s}`), counts[s], s))}
    ${link({ stale: true }, tr(c, 'portal.fleet.stale'), counts.stale, 'stale')}
    ${link({ escrowMissing: true }, tr(c, 'portal.fleet.escrow_missing'), counts.escrowMissing, 'escrowMissing')}
  </ul></section>`;
}

function bulkBlock(c: AppContext, count: number, csrf: string): Html {
  if (count === 0) return html``;
  return html`<section class="card" id="bulk-rotate" aria-labelledby="bulk-rotate-title"><h2 id="bulk-rotate-title">${tr(c, 'portal.fleet.bulk_title')}</h2>
    <p>${tr(c, 'portal.fleet.bulk_explain', { count })}</p>
    <form method="post" action="/admin/devices/rotate-escrow-missing">${csrfField(csrf)}<button type="submit" id="bulk-rotate-submit">${tr(c, 'portal.fleet.bulk_rotate', { count })}</button></form></section>`;
}

function devicesTable(c: AppContext, devices: Device[]): Html {
  const locale = c.get('locale');
  if (devices.length === 0) return html`<p id="devices-empty">${tr(c, 'portal.fleet.no_devices')}</p>`;
  return html`<div class="scroll"><table id="devices"><tr><th scope="col">${tr(c, 'portal.device')}</th><th scope="col">${tr(c, 'portal.serial_number')}</th><th scope="col">${tr(c, 'portal.owner')}</th><th scope="col">${tr(c, 'portal.platform')}</th><th scope="col">${tr(c, 'portal.ownership')}</th><th scope="col">${tr(c, 'ui.status')}</th><th scope="col">${tr(c, 'portal.protector_ids')}</th><th scope="col">${tr(c, 'ui.last_checkin')}</th></tr>
    ${devices.map(
      (d) => html`<tr data-device="${d.id}"><td><a href="/admin/devices/${d.id}">${d.name}</a></td><td data-serial="${d.serialNumber ?? ''}">${d.serialNumber ?? '—'}</td><td>${d.ownerName ?? html`<span class="muted" data-no-owner="1">${tr(c, 'portal.no_owner')}</span>`}</td><td>${platformLabel(d.platform)}</td><td>${tr(c, `ui.ownership.${d.ownership}`)}</td><td>${statusBadge(c, d.keyStatus)}</td><td>${d.keyKind === 'bitlocker' ? d.volumes.map(
        (v) => html`${v.name}: ${v.protectorIds.length ? v.protectorIds.map((p) => html`<code>${p}</code> `) : '—'}<br>`,
      ) : '—'}</td><td>${formatTime(locale, d.lastCheckinAt) ?? tr(c, 'ui.never')}</td></tr>`,
    )}</table></div>`;
}

/** What an export row says about a device: facts and statuses, never a key. */
function exportRow(d: Device): Record<string, string | boolean | null> {
  return {
    id: d.id,
    name: d.name,
    owner: d.ownerName,
    platform: d.platform,
    ownership: d.ownership,
    keyKind: d.keyKind,
    keyStatus: d.keyStatus,
    escrowEnabled: d.escrowEnabled,
    lastCheckinAt: d.lastCheckinAt,
    volumes: d.volumes.map((v) => `${v.name}:${v.keyStatus}`).join(' '),
    protectorIds: d.volumes.flatMap((v) => v.protectorIds).join(' '),
    serialNumber: d.serialNumber ?? null,
  };
}

const CSV_COLUMNS = ['id', 'name', 'owner', 'platform', 'ownership', 'keyKind', 'keyStatus', 'escrowEnabled', 'lastCheckinAt', 'volumes', 'protectorIds', 'serialNumber'] as const;

/** RFC 4180 field; a leading =, +, - or @ is quoted with ' so a spreadsheet never runs it as a formula. */
function csvField(value: string | boolean | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function exportStream(pages: AsyncGenerator<Device[]>, format: 'csv' | 'json'): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '['));
    },
    async pull(controller) {
      const next = await pages.next();
      if (next.done) {
        if (format === 'json') controller.enqueue(encoder.encode(']\n'));
        controller.close();
        return;
      }
      const rows = next.value.map(exportRow);
      const text = format === 'csv'
        ? rows.map((r) => `${CSV_COLUMNS.map((k) => csvField(r[k])).join(',')}\r\n`).join('')
        : rows.map((r) => {
          const item = `${first ? '' : ','}\n${JSON.stringify(r)}`;
          first = false;
          return item;
        }).join('');
      controller.enqueue(encoder.encode(text));
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}

function bulkPage(c: AppContext, action: BulkActionTable, csrf: string): Html {
  const running = action.state === 'running';
  const numbers = { done: action.done, total: action.total, queued: action.queued };
  return page(c, {
    title: tr(c, 'portal.fleet.bulk_title'),
    csrf,
    // Only while running: the page refreshes itself to show progress.
    script: running ? 'setTimeout(() => location.reload(), 2000);' : undefined,
    body: html`<p class="crumb"><a href="/admin/devices">← ${tr(c, 'portal.admin_devices')}</a></p>
      <section class="card" id="bulk-action" data-state="${action.state}" data-done="${action.done}" data-total="${action.total}" data-queued="${action.queued}">
        <p role="status">${running ? tr(c, 'portal.fleet.bulk_progress', numbers) : tr(c, 'portal.fleet.bulk_done', numbers)}</p>
        ${running ? html`<progress max="${Math.max(action.total, 1)}" value="${action.done}"></progress><p class="muted">${tr(c, 'portal.fleet.bulk_running')}</p>` : ''}
      </section>`,
  });
}

export function adminDevicesPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  const itStaff = [requireSession(), requireRole(...IT_ROLES)] as const;

  r.get('/devices', ...itStaff, async (c) => {
    const session = c.get('signedIn');
    let query: DirectoryQuery;
    let error: string | null = null;
    try {
      query = parseDirectoryQuery(c.req.query());
    } catch (failure) {
      if (!(failure instanceof ApiFailure)) throw failure;
      query = {};
      error = tr(c, 'portal.fleet.bad_filter');
    }
    const [list, counts] = await Promise.all([listDirectory(deps, query), countDirectory(deps)]);
    const { after: _after, limit: _limit, ...filters } = query;
    const auditLink = readsWholeAuditLog(actorOf(session)) ? html`<p><a href="/admin/audit" id="audit-link">${tr(c, 'portal.audit_log')}</a></p>` : '';
    return c.html(
      page(c, {
        title: tr(c, 'portal.admin_devices'),
        csrf: session.csrf,
        body: html`${auditLink}${countsBlock(c, counts)}${bulkBlock(c, counts.escrowMissing, session.csrf)}${filterForm(c, query, error)}
          <p><a href="/admin/devices/export.csv${queryString(filters)}" id="export-csv">${tr(c, 'portal.fleet.export_csv')}</a> · <a href="/admin/devices/export.json${queryString(filters)}" id="export-json">${tr(c, 'portal.fleet.export_json')}</a></p>
          ${devicesTable(c, list.devices)}
          <nav class="actions" aria-label="${tr(c, 'portal.fleet.pages')}">${query.after ? html`<a href="/admin/devices${queryString(query)}" id="first-page">${tr(c, 'portal.fleet.first')}</a>` : ''}
          ${list.next ? html`<a href="/admin/devices${queryString(query, { after: list.next })}" id="next-page" rel="next">${tr(c, 'portal.fleet.next')}</a>` : ''}</nav>`,
      }),
      error ? 400 : 200,
    );
  });

  for (const format of ['csv', 'json'] as const) {
    r.get(`/devices/export.${format}`, ...itStaff, async (c) => {
      const { after: _after, limit: _limit, ...query } = parseDirectoryQuery(c.req.query());
      const day = deps.clock.now().toISOString().slice(0, 10);
      return c.body(exportStream(allDirectoryPages(deps, query), format), 200, {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="keyward-devices-${day}.${format}"`,
        'cache-control': 'no-store',
      });
    });
  }

  r.post('/devices/rotate-escrow-missing', ...itStaff, csrfForm(deps.config.maxBodyBytes), async (c) => {
    const session = c.get('signedIn');
    const action = await startBulkRotation(deps, actorOf(session), clientIp(c));
    // Runs after the answer; the progress page follows it.
    void runBulkRotation(deps, action.id).catch((error: unknown) => {
      console.error('keyward: bulk rotation stopped:', error instanceof Error ? error.message : String(error));
    });
    return c.redirect(`/admin/devices/bulk/${action.id}`, 303);
  });

  r.get('/devices/bulk/:id', ...itStaff, async (c) => {
    const session = c.get('signedIn');
    const action = await findBulkAction(deps, c.req.param('id'));
    if (!action) throw new ApiFailure(404, 'not_found');
    return c.html(bulkPage(c, action, session.csrf));
  });

  return r;
}
