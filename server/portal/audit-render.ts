/**
 * Pieces of the portal's audit views (admin audit page, device pages, an owner's device
 * audit page): the events table, whose actor, action and device link to the view filtered by
 * them; the filter form (a GET form, so a filtered view is a link); and the pager, whose
 * "Older events" link carries the filters and the `before` cursor.
 */
import { html } from 'hono/html';
import type { AuditEvent, AuditList } from '../../lib/api/contract.ts';
import { en } from '../../lib/i18n/portal/en.ts';
import { isMessageId } from '../../lib/i18n/index.ts';
import type { AppContext } from '../http/context.ts';
import { auditQueryString, type AuditFilterFields } from '../services/audit-filter.ts';
import { auditDetails } from './audit-details.ts';
import { tr, type Html } from './layout.ts';
import { formatTime } from './session.ts';

const ACTION_PREFIX = 'portal.audit.action.';

/** Every action the portal has words for, for the filter's choices. */
const KNOWN_ACTIONS: readonly string[] = Object.keys(en).filter((id) => id.startsWith(ACTION_PREFIX)).map((id) => id.slice(ACTION_PREFIX.length)).sort();

/** Where a view lives and what it may filter by. */
export type AuditView = {
  /** The page that pages through these events (`/admin/audit`, `/devices/<id>/audit`). */
  path: string;
  /** One device's view: its device is fixed, so there is no device column or filter. */
  oneDevice: boolean;
  fields: AuditFilterFields;
};

function actionName(c: AppContext, action: string): string {
  const id = `${ACTION_PREFIX}${action}`;
  return isMessageId(id) ? tr(c, id) : action;
}

/** The event's action in words, with its stable code underneath for searching and support. */
function actionLabel(c: AppContext, action: string): Html {
  return isMessageId(`${ACTION_PREFIX}${action}`) ? html`${actionName(c, action)}<br>` : html``;
}

function filtered(view: AuditView, change: Partial<AuditFilterFields>): string {
  return `${view.path}${auditQueryString({ ...view.fields, ...change })}`;
}

/** The events, newest first; actor, action and device link to `view` filtered by them. */
export function auditTable(c: AppContext, events: AuditEvent[], view: AuditView): Html {
  const locale = c.get('locale');
  const showDevice = !view.oneDevice;
  // The owner's own pages live outside /admin; owners are shown no key version numbers.
  const forOwner = !view.path.startsWith('/admin/');
  if (events.length === 0) return html`<p id="audit-empty">${tr(c, 'portal.audit.no_events')}</p>`;
  return html`<div class="scroll"><table id="audit">
    <tr><th scope="col">#</th><th scope="col">${tr(c, 'portal.audit.time')}</th><th scope="col">${tr(c, 'portal.audit.actor')}</th><th scope="col">${tr(c, 'portal.audit.action')}</th>${
      showDevice ? html`<th scope="col">${tr(c, 'portal.device')}</th>` : ''
    }<th scope="col">${tr(c, 'portal.audit.detail')}</th></tr>
    ${events.map(
      (e) => html`<tr data-action="${e.action}" data-seq="${e.seq}"><td>${e.seq}</td><td>${formatTime(locale, e.at)}</td><td>${
        e.actorId ? html`<a href="${filtered(view, { actorId: e.actorId })}">${e.actorName ?? e.actorKind}</a>` : (e.actorName ?? e.actorKind)
      }</td><td>${actionLabel(c, e.action)}<a href="${filtered(view, { action: e.action })}"><code class="muted">${e.action}</code></a></td>${
        showDevice ? html`<td>${e.deviceId ? html`<a href="${filtered(view, { deviceId: e.deviceId })}">${e.deviceName ?? e.deviceId}</a>` : '—'}</td>` : ''
      }<td>${auditDetails(c, e.detail, { forOwner })}</td></tr>`,
    )}
  </table></div>`;
}

/** The field a refused filter names, in words when it is one of the form's. */
export function filterFieldLabel(c: AppContext, field: string | undefined): string {
  switch (field) {
    case 'deviceId': return tr(c, 'portal.device');
    case 'actorId': return tr(c, 'portal.audit.actor');
    case 'action': return tr(c, 'portal.audit.action');
    case 'from': return tr(c, 'portal.audit.filter.from');
    case 'to': return tr(c, 'portal.audit.filter.to');
    default: return field ?? '';
  }
}

/**
 * The filter form. `error`: a refused filter's message, shown above the fields, with the
 * field it names marked invalid.
 */
export function auditFilterForm(c: AppContext, view: AuditView, error?: { field?: string; message: string }): Html {
  const f = view.fields;
  const invalid = (name: string) => (error?.field === name ? html`aria-invalid="true" aria-describedby="audit-filter-error"` : '');
  const actions = f.action && !KNOWN_ACTIONS.includes(f.action) ? [...KNOWN_ACTIONS, f.action] : KNOWN_ACTIONS;
  return html`<form method="get" action="${view.path}" class="card" id="audit-filter" role="search" aria-labelledby="audit-filter-title">
    <h2 id="audit-filter-title">${tr(c, 'portal.audit.filter.title')}</h2>
    ${error ? html`<p class="error" role="alert" id="audit-filter-error">${error.message}</p>` : ''}
    <div class="actions">
      ${view.oneDevice ? '' : html`<span class="field"><label for="filter-device">${tr(c, 'portal.device')}</label><input type="text" id="filter-device" name="deviceId" maxlength="100" value="${f.deviceId ?? ''}" ${invalid('deviceId')}></span>`}
      <span class="field"><label for="filter-actor">${tr(c, 'portal.audit.actor')}</label><input type="text" id="filter-actor" name="actorId" maxlength="100" value="${f.actorId ?? ''}" ${invalid('actorId')}></span>
      <span class="field"><label for="filter-action">${tr(c, 'portal.audit.action')}</label><select id="filter-action" name="action" ${invalid('action')}>
        <option value="">${tr(c, 'portal.audit.filter.any_action')}</option>
        ${actions.map((a) => html`<option value="${a}" ${a === f.action ? 'selected' : ''}>${actionName(c, a)} (${a})</option>`)}
      </select></span>
      <span class="field"><label for="filter-from">${tr(c, 'portal.audit.filter.from')}</label><input type="text" id="filter-from" name="from" maxlength="40" value="${f.from ?? ''}" placeholder="2026-11-20" aria-describedby="filter-time-hint" ${invalid('from')}></span>
      <span class="field"><label for="filter-to">${tr(c, 'portal.audit.filter.to')}</label><input type="text" id="filter-to" name="to" maxlength="40" value="${f.to ?? ''}" placeholder="2026-11-21T08:30" aria-describedby="filter-time-hint" ${invalid('to')}></span>
      <button type="submit">${tr(c, 'portal.audit.filter.apply')}</button>
    </div>
    <p class="hint" id="filter-time-hint">${tr(c, 'portal.audit.filter.time_hint')}</p>
  </form>`;
}

/** "Newest events" (when this is an older page) and "Older events" (when there are more). */
export function auditPager(c: AppContext, view: AuditView, page: AuditList, olderPage: boolean): Html {
  if (!olderPage && page.nextCursor === null) return html``;
  return html`<nav class="actions" id="audit-pager" aria-label="${tr(c, 'portal.audit.pages')}">
    ${olderPage ? html`<a href="${filtered(view, {})}" id="audit-newest">${tr(c, 'portal.audit.newest')}</a>` : ''}
    ${page.nextCursor !== null ? html`<a href="${view.path}${auditQueryString(view.fields, { before: page.nextCursor })}" id="audit-older" rel="next">${tr(c, 'portal.audit.older')}</a>` : ''}
  </nav>`;
}
