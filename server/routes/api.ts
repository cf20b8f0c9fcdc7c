/**
 * `/api/v1` for people (the extension): Bearer access tokens from the OAuth flow. Every route
 * validates its body with the contract's schemas and leaves every access decision to
 * `services/access.ts`.
 */
import { LOCALES } from '../../lib/i18n/index.ts';
import { Hono } from 'hono';
import { z } from 'zod';
import { OfflineRevealReport, RevealRequest, SetLocaleRequest, StoreKeyRequest, type Me } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { authenticateAccessToken } from '../auth/oauth.ts';
import { bearerToken, clientIp, requestLocale, type AppContext, type AppEnv } from '../http/context.ts';
import { readJson } from '../http/body.ts';
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
import { parseAuditQuery } from '../services/audit-filter.ts';
import { recordOfflineReveals } from '../services/offline-reveals.ts';
import type { UserTable } from '../db/schema.ts';
import type { Role } from '../../lib/api/contract.ts';
import { openApiDocument } from '../openapi.ts';

/** Audit events on one API page unless `limit` asks for another number (up to the contract's maximum). */
const AUDIT_PAGE_DEFAULT = 50;
const RotateRequest = z.object({ volumeId: z.string().max(100).optional() });

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
  const api = new Hono<AppEnv>();
  const max = deps.config.maxBodyBytes;

  async function caller(c: AppContext): Promise<{ user: UserTable; actor: { id: string; role: Role }; meta: { ip: string; locale: ReturnType<typeof requestLocale> } }> {
    const user = await authenticateAccessToken(deps, bearerToken(c));
    const locale = requestLocale(c, user.locale);
    c.set('locale', locale);
    return { user, actor: { id: user.id, role: user.role as Role }, meta: { ip: clientIp(c), locale } };
  }

  api.get('/openapi.json', (c) => c.json(openApiDocument()));

  api.get('/me', async (c) => {
    const { user } = await caller(c);
    const org = await orgFor(deps, deps.db);
    const me: Me = {
      user: { id: user.id, email: user.email, name: user.name, role: user.role as Role, locale: LOCALES.find((l) => l === user.locale) ?? null },
      org: { name: org.name, supportContact: org.support_contact, offlineCache: org.offline_cache === 'metadata' ? 'metadata' : 'keys' },
    };
    return c.json(me);
  });

  // The language picked in the extension: the portal uses it too. '' (none) follows the browser again.
  api.put('/me/locale', async (c) => {
    const { user } = await caller(c);
    const body = await readJson(c, SetLocaleRequest, max);
    await deps.db.updateTable('users').set({ locale: body.locale ?? '' }).where('id', '=', user.id).execute();
    return c.json({ locale: body.locale });
  });

  api.get('/devices', async (c) => {
    const { user, actor } = await caller(c);
    const scope = c.req.query('scope');
    if (scope === 'all' && !isIt(actor)) throw new ApiFailure(403, 'forbidden');
    if (scope === 'all') {
      // The whole fleet, a page at a time (`next` → `after`), with the console's filters.
      const page = await listDirectory(deps, parseDirectoryQuery(c.req.query()));
      return c.json({ devices: page.devices, cursor: String(await currentChangeSeq(deps)), ...(page.next ? { next: page.next } : {}) });
    }
    const after = syncCursor(c.req.query('cursor') ?? c.req.query('since'));
    await refreshDeviceIndex(deps);
    // Taken before the read: whatever is numbered later comes again next time and nothing is skipped.
    const cursor = await currentChangeSeq(deps);
    const devices = await listOwnDeviceViews(deps.db, await orgFor(deps, deps.db), deps.clock.now(), user.id, after);
    return c.json({ devices, cursor: String(cursor) });
  });

  api.get('/devices/:id', async (c) => {
    const { actor } = await caller(c);
    const device = await findDevice(deps.db, c.req.param('id'));
    if (!device) throw new ApiFailure(404, 'not_found');
    assertCanView(actor, { ownerId: device.owner_id, ownership: device.ownership });
    return c.json(await buildDeviceView(deps.db, await orgFor(deps, deps.db), device, deps.clock.now()));
  });

  api.post('/devices/:id/keys', async (c) => {
    const { actor, meta } = await caller(c);
    const body = await readJson(c, StoreKeyRequest, max);
    return c.json(await storeRecoveryKey(deps, refusals, actor, c.req.param('id'), body, meta), 202);
  });

  api.post('/devices/:id/reveal', async (c) => {
    const { actor, meta } = await caller(c);
    const body = await readJson(c, RevealRequest, max, true);
    await assertRevealRate(c, deps, limiter, actor.id);
    const outcome = await revealRecoveryKey(deps, refusals, actor, c.req.param('id'), body, meta);
    return c.json(outcome.key);
  });

  api.post('/devices/:id/rotate', async (c) => {
    const { actor, meta } = await caller(c);
    const body = await readJson(c, RotateRequest, max, true);
    return c.json(await requestRotation(deps, refusals, actor, c.req.param('id'), body.volumeId, meta), 202);
  });

  api.post('/devices/:id/check-access', async (c) => {
    const { actor } = await caller(c);
    await requestCheckAccess(deps, actor, c.req.param('id'));
    const device = await findDevice(deps.db, c.req.param('id'));
    if (!device) throw new ApiFailure(404, 'not_found');
    return c.json(await buildDeviceView(deps.db, await orgFor(deps, deps.db), device, deps.clock.now()), 202);
  });

  api.get('/audit', async (c) => {
    const { actor, meta } = await caller(c);
    const scope = auditScopeOf(actor);
    if (!scope) throw auditLogRefusal(meta.locale);
    const { filter, limit } = parseAuditQuery(c.req.queries());
    const ownerId = scope.kind === 'own_devices' ? scope.ownerId : undefined;
    return c.json(await listAuditEvents(deps, { ...filter, ownerId }, limit ?? AUDIT_PAGE_DEFAULT));
  });

  api.post('/audit/offline-reveals', async (c) => {
    const { actor, meta } = await caller(c);
    // A report stands for reveals: as many reports a minute as reveals, each checked entry by entry.
    if (!(await limiter.hit(`offline-reveals:user:${actor.id}`, deps.config.rateLimits.revealPerMinute, deps.clock.now().getTime()))) throw new ApiFailure(429, 'rate_limited');
    const body = await readJson(c, OfflineRevealReport, max);
    return c.json(await recordOfflineReveals(deps, actor, body, meta));
  });

  return api;
}
