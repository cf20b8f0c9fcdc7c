/**
 * The portal's route guards, applied where routes are registered: `requireSession` (nobody
 * signed in: to the sign-in page, or 401 for a page's live fragment), `requireRole` (anyone
 * else: 403; services/access.ts decides), `requireAuditLog` (the whole audit log's readers) and
 * `csrfForm` (the posted form, read once and CSRF-checked, then `c.get('form')`). Handlers
 * behind `requireSession` read the person as `c.get('signedIn')`.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Role } from '../../lib/api/contract.ts';
import { ApiFailure } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { readForm } from '../http/body.ts';
import { auditLogRefusal } from '../services/audit-views.ts';
import { hasRole, readsWholeAuditLog } from '../services/access.ts';
import { actorOf, assertCsrf } from './session.ts';

/** The sign-in page, coming back here afterwards (after a form post: to the devices). */
export function toLogin(c: Context) {
  const target = c.req.method === 'GET' ? c.req.url.slice(new URL(c.req.url).origin.length) : '/devices';
  return c.redirect(`/login?next=${encodeURIComponent(target)}`, 303);
}

/** `otherwise: 'unauthenticated'` for fragments fetched by a page's script: 401, not a redirect. */
export function requireSession(otherwise: 'sign_in' | 'unauthenticated' = 'sign_in') {
  return createMiddleware<AppEnv>(async (c, next) => {
    const session = c.get('session');
    if (!session) {
      if (otherwise === 'unauthenticated') throw new ApiFailure(401, 'unauthenticated');
      return toLogin(c);
    }
    c.set('signedIn', session);
    await next();
  });
}

/** After `requireSession`: 403 for a person whose role is not one of `roles`. */
export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!hasRole(actorOf(c.get('signedIn')), roles)) throw new ApiFailure(403, 'forbidden');
    await next();
  });
}

/** After `requireSession`: anyone but the audit log's readers is told that only admins see it. */
export function requireAuditLog() {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!readsWholeAuditLog(actorOf(c.get('signedIn')))) throw auditLogRefusal(c.get('locale'));
    await next();
  });
}

/** Reads the urlencoded form (at most `maxBytes`) and checks its CSRF token. */
export function csrfForm(maxBytes: number) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const form = await readForm(c, maxBytes);
    assertCsrf(c, form);
    c.set('form', form);
    await next();
  });
}
