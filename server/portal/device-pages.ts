/**
 * "My devices" and the device page for owners: status, key status per volume, the notice
 * (M3/M4), Check access, Rotate, the plain Store recovery key form (M1 under the confirm
 * field when the keys differ; M2 toast when the request could not be submitted) and Get
 * recovery key (shown with a five-minute countdown). The extension mounts its panels on the
 * `data-keyward-panel` elements next to the plain forms.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import type { AuditEvent, Device, RevealedKey } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RefusalLog } from '../services/refusals.ts';
import { assertRevealRate } from '../http/reveal-rate.ts';
import { assertCanView, auditScopeOf, isOwner } from '../services/access.ts';
import { buildDeviceView, findDevice, getOrg, listOwnDeviceViews } from '../services/device-views.ts';
import { storeRecoveryKey } from '../services/store-key.ts';
import { revealRecoveryKey } from '../services/reveal-key.ts';
import { requestCheckAccess, requestRotation } from '../services/rotate.ts';
import { auditLogRefusal, listAuditEvents } from '../services/audit-views.ts';
import { auditQueryString, parseAuditQuery, type ParsedAuditQuery } from '../services/audit-filter.ts';
import type { PortalSession } from '../auth/sessions.ts';
import { actorOf, formatTime } from './session.ts';
import { csrfForm, requireSession } from './guards.ts';
import { optionalText, parseForm, text } from './forms.ts';
import { rotateControl, volumeSelect } from './view-helpers.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { COUNTDOWN_SCRIPT, revealedKeyBlock, statusBadge } from './device-render.ts';
import { COPY_SCRIPT } from './copy-key.ts';
import { LIVE_SCRIPT, liveRegion } from './device-live.ts';
import { platformLabel } from './platform-icons.ts';
import { auditFilterForm, auditPager, auditTable, filterFieldLabel, type AuditView } from './audit-render.ts';

/** The owner's device page shows this many of the device's newest events; the rest are a link away. */
const OWNER_PAGE_EVENTS = 10;
/** Events on one page of a device's audit view. */
const DEVICE_AUDIT_PAGE = 50;
/** A device's audit view filters by everything but the device, which its address names. */
const DEVICE_AUDIT_QUERY_KEYS = ['actorId', 'action', 'from', 'to', 'before', 'limit'] as const;

/** The plain Store form; the service checks the key (M1 when the two differ). */
const StoreKeyForm = z.object({ key: text(), confirmKey: text(), volumeId: optionalText() });
/** Get recovery key: the volume, when the device has several. */
const VolumeForm = z.object({ volumeId: optionalText() });
/** Rotate and Check access, sent from the owner's page or (`back=admin`) IT's. */
const DeviceRequestForm = z.object({ volumeId: optionalText(), back: text() });

type StoreFormState = { keyError?: string; confirmError?: string };

type DevicePageState = { store?: StoreFormState; revealed?: RevealedKey; getError?: string; info?: string | null; toast?: string | null; events?: AuditEvent[] };

function deviceAuditView(deviceId: string): AuditView {
  return { path: `/devices/${deviceId}/audit`, oneDevice: true, fields: {} };
}

/** The device's newest events for its owner, and the link to page through all of them. */
function ownerAuditSection(c: AppContext, device: Device, events: AuditEvent[]): Html {
  const view = deviceAuditView(device.id);
  return html`<section class="card" id="device-audit" aria-labelledby="device-audit-title">
    <h2 id="device-audit-title">${tr(c, 'portal.audit_log')}</h2>
    ${auditTable(c, events, view)}
    <p><a href="${view.path}" id="audit-all">${tr(c, 'portal.audit.all_device_events')}</a></p>
  </section>`;
}

/** One-off answers after a form; "saving" and "rotation requested" are drawn from the device's state instead. */
const INFO_FLAGS: Record<string, 'portal.check_access_sent'> = {
  checked: 'portal.check_access_sent',
};

function storeSection(c: AppContext, device: Device, csrf: string, state: StoreFormState): Html {
  const multi = device.volumes.length > 1;
  const keyDescribedBy = state.keyError ? 'key-hint key-error' : 'key-hint';
  return html`<section class="card" id="store" aria-labelledby="store-title">
    <h2 id="store-title">${tr(c, 'ui.store_key')}</h2>
    <div data-keyward-panel="store" data-keyward-device="${device.id}" data-keyward-kind="${device.keyKind}"></div>
    <form method="post" action="/devices/${device.id}/keys" id="store-form" autocomplete="off">
      ${csrfField(csrf)}
      ${multi ? html`<label for="store-volume">${tr(c, 'portal.volume')}</label>${volumeSelect(device, 'store-volume')}` : ''}
      <label for="key">${tr(c, 'ui.recovery_key')}</label>
      <p class="hint" id="key-hint">${tr(c, `portal.key_hint.${device.keyKind}`)}</p>
      <input type="text" id="key" name="key" spellcheck="false" autocapitalize="characters" required aria-describedby="${keyDescribedBy}" ${state.keyError ? html`aria-invalid="true"` : ''}>
      ${state.keyError ? html`<p class="error" id="key-error" role="alert">${state.keyError}</p>` : ''}
      <label for="confirmKey">${tr(c, 'ui.confirm_key')}</label>
      <input type="text" id="confirmKey" name="confirmKey" spellcheck="false" autocapitalize="characters" required ${state.confirmError ? html`aria-invalid="true" aria-describedby="confirm-error"` : ''}>
      ${state.confirmError ? html`<p class="error" id="confirm-error" data-message="M1" role="alert">${state.confirmError}</p>` : ''}
      <div class="actions"><button type="submit">${tr(c, 'ui.save')}</button></div>
    </form>
  </section>`;
}

function getSection(c: AppContext, device: Device, csrf: string, revealed: RevealedKey | undefined, error: string | undefined): Html {
  const multi = device.volumes.length > 1;
  return html`<section class="card" id="get" aria-labelledby="get-title">
    <h2 id="get-title">${tr(c, 'ui.get_key')}</h2>
    <div data-keyward-panel="get" data-keyward-device="${device.id}"></div>
    ${revealed ? revealedKeyBlock(c, revealed) : ''}
    ${error ? html`<p class="error" id="get-error" role="alert">${error}</p>` : ''}
    <form method="post" action="/devices/${device.id}/reveal" id="get-form">
      ${csrfField(csrf)}
      <div class="actions">
        ${multi ? html`<span class="field"><label for="get-volume">${tr(c, 'portal.volume')}</label>${volumeSelect(device, 'get-volume')}</span>` : ''}
        <button type="submit">${tr(c, 'ui.get_key')}</button>
      </div>
    </form>
    ${device.retiredAt ? '' : html`<div class="actions" id="key-actions">${rotateControl(c, device, csrf)}</div>`}
  </section>`;
}

/** A LUKS disk has no typed key to store: the agent adds its own; the page says so instead of the form. */
function luksStoreHint(c: AppContext): Html {
  return html`<section class="card" id="store" aria-labelledby="store-title">
    <h2 id="store-title">${tr(c, 'ui.store_key')}</h2>
    <p id="luks-store-hint">${tr(c, 'portal.luks_store_hint')}</p>
  </section>`;
}

export function devicePage(c: AppContext, device: Device, csrf: string, retentionDays: number, state: DevicePageState): Html {
  return page(c, {
    title: device.name,
    csrf,
    toast: state.toast,
    script: state.revealed ? `${COUNTDOWN_SCRIPT}\n${COPY_SCRIPT}\n${LIVE_SCRIPT}` : LIVE_SCRIPT,
    body: html`
      <p class="crumb"><a href="/devices">← ${tr(c, 'ui.my_devices')}</a></p>
      ${state.info ? html`<p class="info" id="info" role="status">${state.info}</p>` : ''}
      ${liveRegion(c, device, csrf, 'owner', retentionDays)}
      ${getSection(c, device, csrf, state.revealed, state.getError)}
      ${device.retiredAt ? '' : device.keyKind === 'luks' ? luksStoreHint(c) : storeSection(c, device, csrf, state.store ?? {})}
      ${state.events ? ownerAuditSection(c, device, state.events) : ''}
    `,
  });
}

/** One card per device: its platform (icon and name), ownership, key status and last check-in. */
function deviceCard(c: AppContext, d: Device): Html {
  const locale = c.get('locale');
  return html`<li class="card device-card" data-device="${d.id}">
    <h2 id="device-${d.id}-name"><a href="/devices/${d.id}">${d.name}</a></h2>
    <p class="device-facts">${platformLabel(d.platform)} <span class="muted">·</span> ${tr(c, `ui.ownership.${d.ownership}`)}</p>
    <p>${statusBadge(c, d.keyStatus)}</p>
    <p class="muted">${tr(c, 'ui.last_checkin')}: ${formatTime(locale, d.lastCheckinAt) ?? tr(c, 'ui.never')}</p>
  </li>`;
}

function devicesListPage(c: AppContext, devices: Device[], csrf: string): Html {
  return page(c, {
    title: tr(c, 'ui.my_devices'),
    csrf,
    body: devices.length
      ? html`<ul id="devices" class="device-cards">${devices.map((d) => deviceCard(c, d))}</ul>`
      : html`<p>${tr(c, 'portal.no_devices')}</p>`,
  });
}

export function devicePages(deps: AppDeps, limiter: RateLimiter, refusals: RefusalLog): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const signedIn = requireSession();
  const checkedForm = csrfForm(deps.config.maxBodyBytes);

  async function ownDevice(c: AppContext, session: PortalSession): Promise<Device> {
    const row = await findDevice(deps.db, c.req.param('id') ?? '');
    if (!row) throw new ApiFailure(404, 'not_found');
    assertCanView(actorOf(session), { ownerId: row.owner_id, ownership: row.ownership });
    return buildDeviceView(deps.db, await getOrg(deps.db), row, deps.clock.now());
  }

  r.get('/devices', signedIn, async (c) => {
    const session = c.get('signedIn');
    const devices = await listOwnDeviceViews(deps.db, await getOrg(deps.db), deps.clock.now(), session.user.id);
    return c.html(devicesListPage(c, devices, session.csrf));
  });

  r.get('/devices/:id', signedIn, async (c) => {
    const session = c.get('signedIn');
    const device = await ownDevice(c, session);
    if (!isOwner(actorOf(session), device)) return c.redirect(`/admin/devices/${device.id}`, 302);
    const flag = Object.keys(INFO_FLAGS).find((k) => c.req.query(k) === '1');
    const { events } = await listAuditEvents(deps, { ownerId: session.user.id, deviceId: device.id }, OWNER_PAGE_EVENTS);
    return c.html(devicePage(c, device, session.csrf, deps.config.retiredRetentionDays, { info: flag ? tr(c, INFO_FLAGS[flag]) : null, toast: c.req.query('toast') === 'M2' ? tr(c, 'flow.M2.here') : null, events }));
  });

  // The live part of the device page, fetched again by its script (device-live.ts).
  r.get('/devices/:id/live', requireSession('unauthenticated'), async (c) => {
    const session = c.get('signedIn');
    const device = await ownDevice(c, session);
    if (!isOwner(actorOf(session), device)) throw new ApiFailure(404, 'not_found');
    c.header('cache-control', 'no-store');
    return c.html(liveRegion(c, device, session.csrf, 'owner', deps.config.retiredRetentionDays));
  });

  // Every event of one device, page by page, for its owner (admins have the whole log; helpdesk none of it).
  r.get('/devices/:id/audit', signedIn, async (c) => {
    const session = c.get('signedIn');
    const device = await ownDevice(c, session);
    const scope = auditScopeOf(actorOf(session));
    if (!scope) throw auditLogRefusal(c.get('locale'));
    if (scope.kind === 'all') return c.redirect(`/admin/audit${auditQueryString({ deviceId: device.id })}`, 302);
    const view = deviceAuditView(device.id);
    const frame = (body: Html) => page(c, { title: tr(c, 'portal.audit.device_title', { device: device.name }), csrf: session.csrf, body: html`<p class="crumb"><a href="/devices/${device.id}">← ${device.name}</a></p>${body}` });
    let query: ParsedAuditQuery;
    try {
      query = parseAuditQuery(c.req.queries(), DEVICE_AUDIT_QUERY_KEYS);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      return c.html(frame(auditFilterForm(c, view, { field: error.field, message: tr(c, 'portal.audit.bad_filter', { field: filterFieldLabel(c, error.field) }) })), 400);
    }
    const list = await listAuditEvents(deps, { ...query.filter, ownerId: scope.ownerId, deviceId: device.id }, query.limit ?? DEVICE_AUDIT_PAGE);
    const filteredView = { ...view, fields: query.fields };
    return c.html(frame(html`${auditFilterForm(c, filteredView)}${auditTable(c, list.events, filteredView)}${auditPager(c, filteredView, list, query.filter.before !== undefined)}`));
  });

  r.post('/devices/:id/keys', signedIn, checkedForm, async (c) => {
    const session = c.get('signedIn');
    const id = c.req.param('id');
    try {
      await storeRecoveryKey(deps, refusals, actorOf(session), id, parseForm(StoreKeyForm, c.get('form')), { ip: clientIp(c), locale: c.get('locale') });
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.code === 'not_found') throw error;
      const device = await ownDevice(c, session);
      const message = error.detail ?? tr(c, `error.${error.code}`);
      const state: DevicePageState =
        error.code === 'keys_mismatch' ? { store: { confirmError: tr(c, 'flow.M1') } }
        : error.code === 'invalid_key' ? { store: { keyError: message } }
        : error.code === 'luks_passphrase_refused' ? { toast: message }
        : { toast: tr(c, 'flow.M2.here') };
      return c.html(devicePage(c, device, session.csrf, deps.config.retiredRetentionDays, state), error.status === 500 ? 400 : error.status);
    }
    return c.redirect(`/devices/${id}`, 303);
  });

  r.post('/devices/:id/reveal', signedIn, checkedForm, async (c) => {
    const session = c.get('signedIn');
    await assertRevealRate(c, deps, limiter, session.user.id);
    try {
      const outcome = await revealRecoveryKey(deps, refusals, actorOf(session), c.req.param('id'), parseForm(VolumeForm, c.get('form')), { ip: clientIp(c), locale: c.get('locale') });
      const device = await ownDevice(c, session);
      return c.html(devicePage(c, device, session.csrf, deps.config.retiredRetentionDays, { revealed: outcome.key }));
    } catch (error) {
      // No key escrowed yet: say so (with IT's contact) in the Get section, on the device page.
      if (!(error instanceof ApiFailure) || error.code !== 'no_key') throw error;
      const device = await ownDevice(c, session);
      return c.html(devicePage(c, device, session.csrf, deps.config.retiredRetentionDays, { getError: error.detail ?? tr(c, 'error.no_key') }), 404);
    }
  });

  r.post('/devices/:id/rotate', signedIn, checkedForm, async (c) => {
    const session = c.get('signedIn');
    const form = parseForm(DeviceRequestForm, c.get('form'));
    const id = c.req.param('id');
    await requestRotation(deps, refusals, actorOf(session), id, form.volumeId, { ip: clientIp(c), locale: c.get('locale') });
    return c.redirect(form.back === 'admin' ? `/admin/devices/${id}?rotated=1` : `/devices/${id}`, 303);
  });

  r.post('/devices/:id/check-access', signedIn, checkedForm, async (c) => {
    const session = c.get('signedIn');
    const form = parseForm(DeviceRequestForm, c.get('form'));
    const id = c.req.param('id');
    await requestCheckAccess(deps, actorOf(session), id);
    return c.redirect(`${form.back === 'admin' ? '/admin' : ''}/devices/${id}?checked=1`, 303);
  });

  return r;
}
