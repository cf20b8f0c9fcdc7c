/**
 * `/api/v1` for people (the extension), mounted from the endpoint table (`userEndpoints`):
 * Bearer access tokens from the OAuth flow, bodies and queries read with the table's schemas.
 * Every access decision is left to `services/access.ts`.
 */
import { LOCALES } from '../../lib/i18n/index.ts';
import type { Hono, MiddlewareHandler } from 'hono';
import { userEndpoints } from '../../lib/api/endpoints.ts';
import type { Me, Role } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { endpointRouter } from '../http/endpoint-route.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RefusalLog } from '../services/refusals.ts';
import { assertRevealRate } from '../http/reveal-rate.ts';
import { assertCanView, auditScopeOf, isIt } from '../services/access.ts';
import { buildDeviceView, findDevice, listOwnDeviceViews, orgFor } from '../services/device-views.ts';
import { currentChangeSeq, refreshDeviceIndex } from '../services/device-index.ts';
import { listDirectory, parseDirectoryQuery } from '../services/device-directory.ts';
import { storeRecoveryKey } from '../services/store-key.ts';
import { revealRecoveryKey } from '../services/reveal-key.ts';
import { requestCheckAccess, requestRotation } from '../services/rotate.ts';
import { auditLogRefusal, listAuditEvents } from '../services/audit-views.ts';
import { auditFilterOf } from '../services/audit-filter.ts';
import { saveUserLocale } from '../services/users.ts';
import { recordOfflineReveals } from '../services/offline-reveals.ts';
import { OPENAPI_DOCUMENT_PATH, openApiDocument } from '../openapi.ts';

/** Audit events on one API page unless `limit` asks for another number (up to the contract's maximum). */
const AUDIT_PAGE_DEFAULT = 50;

/**
 * The delta-sync cursor of an earlier answer (a change number); none, or a timestamp cursor
 * from before change numbers, means everything.
 */
function syncCursor(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!Number.isNaN(Date.parse(value))) return undefined;
  throw new ApiFailure(400, 'invalid_input', { field: 'cursor' });
}

export function apiRoutes(deps: AppDeps, limiter: RateLimiter, refusals: RefusalLog): Hono<AppEnv> {
  const { router, mount } = endpointRouter(deps);
  const api = userEndpoints;

  router.get(OPENAPI_DOCUMENT_PATH, (c) => c.json(openApiDocument()));

  mount(api.me, async ({ caller: { user } }) => {
    const org = await orgFor(deps, deps.db);
    const me: Me = {
      user: { id: user.id, email: user.email, name: user.name, role: user.role as Role, locale: LOCALES.find((l) => l === user.locale) ?? null },
      org: { name: org.name, supportContact: org.support_contact, offlineCache: org.offline_cache === 'metadata' ? 'metadata' : 'keys' },
    };
    return me;
  });

  // The language picked in the extension: the portal uses it too. null follows the browser again.
  mount(api.setLocale, async ({ caller: { user }, body }) => {
    await saveUserLocale(deps, user.id, body.locale);
    return { locale: body.locale };
  });

  mount(api.listDevices, async ({ caller: { user, actor }, query }) => {
    if (query.scope === 'all' && !isIt(actor)) throw new ApiFailure(403, 'forbidden');
    if (query.scope === 'all') {
      // The whole fleet, a page at a time (`next` → `after`), with the console's filters.
      const page = await listDirectory(deps, parseDirectoryQuery(query));
      return { devices: page.devices, cursor: String(await currentChangeSeq(deps)), ...(page.next ? { next: page.next } : {}) };
    }
    const after = syncCursor(query.cursor ?? query.since);
    await refreshDeviceIndex(deps);
    // Taken before the read: whatever is numbered later comes again next time and nothing is skipped.
    const cursor = await currentChangeSeq(deps);
    const devices = await listOwnDeviceViews(deps.db, await orgFor(deps, deps.db), deps.clock.now(), user.id, after);
    return { devices, cursor: String(cursor) };
  });

  mount(api.getDevice, async ({ caller: { actor }, params }) => {
    const device = await findDevice(deps.db, params.id);
    if (!device) throw new ApiFailure(404, 'not_found');
    assertCanView(actor, { ownerId: device.owner_id, ownership: device.ownership });
    return buildDeviceView(deps.db, await orgFor(deps, deps.db), device, deps.clock.now());
  });

  mount(api.storeKey, async ({ caller: { actor, meta }, params, body }) => storeRecoveryKey(deps, refusals, actor, params.id, body, meta));

  mount(api.revealKey, async ({ c, caller: { actor, meta }, params, body }) => {
    await assertRevealRate(c, deps, limiter, actor.id);
    const outcome = await revealRecoveryKey(deps, refusals, actor, params.id, body, meta);
    return outcome.key;
  });

  mount(api.rotateKey, async ({ caller: { actor, meta }, params, body }) => requestRotation(deps, refusals, actor, params.id, body.volumeId, meta));

  mount(api.checkAccess, async ({ caller: { actor }, params }) => {
    await requestCheckAccess(deps, actor, params.id);
    const device = await findDevice(deps.db, params.id);
    if (!device) throw new ApiFailure(404, 'not_found');
    return buildDeviceView(deps.db, await orgFor(deps, deps.db), device, deps.clock.now());
  });

  /** Only those who may read some of the log get as far as their query being read (helpdesk: 403 first). */
  const auditReaders: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!auditScopeOf(c.get('apiUser').actor)) throw auditLogRefusal(c.get('locale'));
    await next();
  };
  mount(api.listAudit, async ({ caller: { actor, meta }, query }) => {
    const scope = auditScopeOf(actor);
    if (!scope) throw auditLogRefusal(meta.locale);
    const { filter, limit } = auditFilterOf(query);
    const ownerId = scope.kind === 'own_devices' ? scope.ownerId : undefined;
    return listAuditEvents(deps, { ...filter, ownerId }, limit ?? AUDIT_PAGE_DEFAULT);
  }, { before: [auditReaders] });

  // A report stands for reveals: as many reports a minute as reveals, each checked entry by
  // entry; counted before the body is read, so a malformed report counts too.
  const offlineRevealRate: MiddlewareHandler<AppEnv> = async (c, next) => {
    const userId = c.get('apiUser').actor.id;
    if (!(await limiter.hit(`offline-reveals:user:${userId}`, deps.config.rateLimits.revealPerMinute, deps.clock.now().getTime()))) throw new ApiFailure(429, 'rate_limited');
    await next();
  };
  mount(api.reportOfflineReveals, async ({ caller: { actor, meta }, body }) => recordOfflineReveals(deps, actor, body, meta), { before: [offlineRevealRate] });

  return router;
}
