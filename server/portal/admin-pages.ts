/**
 * The admin console (helpdesk and admin): every device, each volume's BitLocker protector
 * IDs, viewing a corporate key with a typed reason (always audited), rotation, and — for
 * admins only — the audit log with its chain verification. For a personal device it explains
 * why the key cannot be viewed and offers rotation instead.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import { RevealRequest, type AuditEvent, type AuditList, type Device, type RevealedKey } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RefusalLog } from '../services/refusals.ts';
import { assertRevealRate } from '../http/reveal-rate.ts';
import { IT_ROLES, MIN_REVEAL_REASON, readsWholeAuditLog } from '../services/access.ts';
import { buildDeviceView, findDevice, getOrg } from '../services/device-views.ts';
import { revealRecoveryKey } from '../services/reveal-key.ts';
import { allAuditEvents, listAuditEvents } from '../services/audit-views.ts';
import { auditQueryString, parseAuditQuery, type AuditFilterFields, type ParsedAuditQuery } from '../services/audit-filter.ts';
import { verifyAuditChain } from '../audit.ts';
import type { PortalSession } from '../auth/sessions.ts';
import { actorOf } from './session.ts';
import { csrfForm, requireAuditLog, requireRole, requireSession } from './guards.ts';
import { parseForm } from './forms.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { COUNTDOWN_SCRIPT, revealedKeyBlock } from './device-render.ts';
import { COPY_SCRIPT } from './copy-key.ts';
import { LIVE_SCRIPT, liveRegion } from './device-live.ts';
import { lifecycleSection, rotateControl } from './view-helpers.ts';
import { auditFilterForm, auditPager, auditTable, filterFieldLabel, type AuditView } from './audit-render.ts';

/** Events on one page of the admin audit log. */
const AUDIT_PAGE = 100;
/** A device page's newest events; the rest are a link away. */
const DEVICE_PAGE_EVENTS = 20;
/** What the export accepts: the filters, without a cursor (it writes every matching event). */
const EXPORT_QUERY_KEYS = ['deviceId', 'actorId', 'action', 'from', 'to'] as const;

/** `target` is "<volumeId>" or "<volumeId> <protectorId>" (a BitLocker volume with several protectors). */
const AdminRevealForm = z
  .object({ target: z.string().optional(), volumeId: z.string().optional(), reason: z.string().optional() })
  .transform((form) => {
    const [volumeId, protectorId] = (form.target ?? form.volumeId ?? '').split(' ');
    return { ...(volumeId ? { volumeId } : {}), ...(protectorId ? { protectorId } : {}), ...(form.reason !== undefined ? { reason: form.reason } : {}) };
  })
  .pipe(RevealRequest);

type AdminState = { revealed?: RevealedKey; error?: string | null; info?: string | null };

/** The newest events of one device, and the link to all of them on the audit page. */
function deviceAuditSection(c: AppContext, deviceId: string, events: AuditEvent[]): Html {
  const view: AuditView = { path: '/admin/audit', oneDevice: true, fields: { deviceId } };
  return html`<section class="card" id="device-audit"><h2>${tr(c, 'portal.audit_log')}</h2>${auditTable(c, events, view)}
    <p><a href="/admin/audit${auditQueryString({ deviceId })}" id="audit-all">${tr(c, 'portal.audit.all_device_events')}</a></p></section>`;
}

/** `events`: the device's newest audit events, or `null` for someone who may not read the audit log. */
function adminDevicePage(c: AppContext, device: Device, events: AuditEvent[] | null, csrf: string, retentionDays: number, state: AdminState): Html {
  const personal = device.ownership === 'personal';
  const rotateForm = rotateControl(c, device, csrf, 'admin');
  return page(c, {
    title: device.name,
    csrf,
    script: state.revealed ? `${COUNTDOWN_SCRIPT}\n${COPY_SCRIPT}\n${LIVE_SCRIPT}` : LIVE_SCRIPT,
    body: html`
      <p class="crumb"><a href="/admin/devices">← ${tr(c, 'portal.admin_devices')}</a></p>
      ${state.info ? html`<p class="info" role="status">${state.info}</p>` : ''}
      ${liveRegion(c, device, csrf, 'it', retentionDays)}
      <section class="card" id="reveal" aria-labelledby="reveal-title">
        <h2 id="reveal-title">${tr(c, 'ui.get_key')}</h2>
        ${personal
          ? html`<div class="notice explain" id="personal-explain" role="status"><p><strong>${tr(c, 'error.personal_device')}</strong></p><p>${tr(c, 'portal.personal_rotate_hint')}</p></div><div class="actions">${rotateForm}</div>`
          : html`${state.revealed ? revealedKeyBlock(c, state.revealed) : ''}
            ${state.error ? html`<p class="error" role="alert" id="reveal-error">${state.error}</p>` : ''}
            <form method="post" action="/admin/devices/${device.id}/reveal" id="reveal-form">
              ${csrfField(csrf)}
              <label for="volumeId">${tr(c, 'portal.volume')}</label>
              <select id="volumeId" name="target">${device.volumes.flatMap((v) =>
                v.protectorIds.length > 1
                  ? v.protectorIds.map((p) => html`<option value="${v.id} ${p}">${v.name} · ${p}</option>`)
                  : [html`<option value="${v.id}">${v.name}${v.protectorIds.length ? ` · ${v.protectorIds[0]}` : ''}</option>`],
              )}</select>
              <label for="reason">${tr(c, 'ui.reason')}</label>
              <p class="hint" id="reason-hint">${tr(c, 'portal.reason_hint')} ${tr(c, 'portal.reason_min', { min: MIN_REVEAL_REASON })}</p>
              <input type="text" id="reason" name="reason" minlength="${MIN_REVEAL_REASON}" maxlength="500" required aria-describedby="${state.error ? 'reason-hint reveal-error' : 'reason-hint'}" ${state.error ? html`aria-invalid="true"` : ''}>
              <div class="actions"><button type="submit">${tr(c, 'portal.reveal')}</button></div>
            </form>
            <div class="actions">${rotateForm}</div>`}
      </section>
      ${lifecycleSection(c, device, csrf, retentionDays)}
      ${events ? deviceAuditSection(c, device.id, events) : ''}
    `,
  });
}

export function adminPages(deps: AppDeps, limiter: RateLimiter, refusals: RefusalLog): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const itStaff = [requireSession(), requireRole(...IT_ROLES)] as const;
  const auditReader = [...itStaff, requireAuditLog()] as const;

  /** The device's audit events for the admin device page, if this person may read the audit log. */
  async function deviceEvents(session: PortalSession, deviceId: string): Promise<AuditEvent[] | null> {
    return readsWholeAuditLog(actorOf(session)) ? (await listAuditEvents(deps, { deviceId }, DEVICE_PAGE_EVENTS)).events : null;
  }

  async function deviceFor(c: AppContext): Promise<Device> {
    const row = await findDevice(deps.db, c.req.param('id') ?? '');
    if (!row) throw new ApiFailure(404, 'not_found');
    return buildDeviceView(deps.db, await getOrg(deps.db), row, deps.clock.now());
  }

  r.get('/devices/:id', ...itStaff, async (c) => {
    const session = c.get('signedIn');
    const device = await deviceFor(c);
    const events = await deviceEvents(session, device.id);
    const info = c.req.query('checked') === '1' ? tr(c, 'portal.check_access_sent') : null;
    return c.html(adminDevicePage(c, device, events, session.csrf, deps.config.retiredRetentionDays, { info }));
  });

  // The live part of the device page, fetched again by its script (device-live.ts).
  r.get('/devices/:id/live', requireSession('unauthenticated'), requireRole(...IT_ROLES), async (c) => {
    const session = c.get('signedIn');
    c.header('cache-control', 'no-store');
    return c.html(liveRegion(c, await deviceFor(c), session.csrf, 'it', deps.config.retiredRetentionDays));
  });

  r.post('/devices/:id/reveal', ...itStaff, csrfForm(deps.config.maxBodyBytes), async (c) => {
    const session = c.get('signedIn');
    const form = c.get('form');
    await assertRevealRate(c, deps, limiter, session.user.id);
    let state: AdminState = {};
    let status: 200 | 400 | 403 | 404 = 200;
    try {
      const request = parseForm(AdminRevealForm, form);
      const outcome = await revealRecoveryKey(deps, refusals, actorOf(session), c.req.param('id'), request, { ip: clientIp(c), locale: c.get('locale') });
      state = { revealed: outcome.key, info: outcome.rotationQueued ? tr(c, 'portal.rotation_after_reveal') : null };
    } catch (error) {
      if (!(error instanceof ApiFailure) || !['reason_required', 'reason_too_short', 'invalid_input', 'no_key', 'personal_device'].includes(error.code)) throw error;
      state = { error: error.detail ?? tr(c, `error.${error.code}`, error.params) };
      status = error.status === 404 ? 404 : error.status === 403 ? 403 : 400;
    }
    const device = await deviceFor(c);
    const events = await deviceEvents(session, device.id);
    return c.html(adminDevicePage(c, device, events, session.csrf, deps.config.retiredRetentionDays, state), status);
  });

  // Helpdesk is told that only admins see the audit log.
  r.get('/audit', ...auditReader, async (c) => {
    const session = c.get('signedIn');
    let query: ParsedAuditQuery;
    try {
      query = parseAuditQuery(c.req.queries());
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      const message = tr(c, 'portal.audit.bad_filter', { field: filterFieldLabel(c, error.field) });
      return c.html(auditPage(c, session, { fields: {}, error: { field: error.field, message } }), 400);
    }
    const [list, chain] = await Promise.all([listAuditEvents(deps, query.filter, query.limit ?? AUDIT_PAGE), verifyAuditChain(deps)]);
    return c.html(auditPage(c, session, { fields: query.fields, list, olderPage: query.filter.before !== undefined, chain }));
  });

  r.get('/audit/export.jsonl', ...auditReader, async (c) => {
    const { filter } = parseAuditQuery(c.req.queries(), EXPORT_QUERY_KEYS);
    const day = deps.clock.now().toISOString().slice(0, 10);
    return c.body(jsonLines(allAuditEvents(deps, filter)), 200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="keyward-audit-${day}.jsonl"`,
      'cache-control': 'no-store',
    });
  });

  return r;
}

type AuditPageState = {
  fields: AuditFilterFields;
  list?: AuditList;
  olderPage?: boolean;
  chain?: Awaited<ReturnType<typeof verifyAuditChain>>;
  error?: { field?: string; message: string };
};

/** The whole log for admins: chain check, filters, one page of events, paging and the export link. */
function auditPage(c: AppContext, session: PortalSession, state: AuditPageState): Html {
  const view: AuditView = { path: '/admin/audit', oneDevice: false, fields: state.fields };
  const chain = state.chain;
  return page(c, {
    title: tr(c, 'portal.audit_log'),
    csrf: session.csrf,
    body: html`${chain
      ? html`<p class="${chain.ok ? 'info' : 'error'}" id="chain" data-ok="${String(chain.ok)}">${
        chain.ok ? tr(c, 'portal.audit_verified', { count: chain.count }) : tr(c, 'portal.audit_broken', { seq: chain.brokenAtSeq })
      }</p>`
      : ''}
      ${auditFilterForm(c, view, state.error)}
      ${state.list
        ? html`<p><a href="/admin/audit/export.jsonl${auditQueryString(state.fields)}" id="audit-export">${tr(c, 'portal.audit.export')}</a></p>
          ${auditTable(c, state.list.events, view)}${auditPager(c, view, state.list, state.olderPage ?? false)}`
        : ''}`,
  });
}

/** Events as JSON lines, pulled from the database only as fast as the client reads them. */
function jsonLines(events: AsyncGenerator<AuditEvent>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await events.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
    },
    async cancel() {
      await events.return(undefined);
    },
  });
}
