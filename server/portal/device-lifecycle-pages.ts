/**
 * The admin device page's lifecycle forms (IT; the section itself is in view-helpers.ts): retire
 * the device (its agent's credential is revoked at once; keys kept for the retention period),
 * and, once retired, make a one-time token that re-enrolls it, shown once on its own page.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppDeps } from '../deps.ts';
import { clientIp, type AppEnv } from '../http/context.ts';
import { IT_ROLES } from '../services/access.ts';
import { createReenrollToken, REENROLL_TOKEN_DAYS, retireDevice } from '../services/device-lifecycle.ts';
import { actorOf } from './session.ts';
import { csrfForm, requireRole, requireSession } from './guards.ts';
import { page, tr } from './layout.ts';

export function deviceLifecyclePages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const itForm = [requireSession(), requireRole(...IT_ROLES), csrfForm(deps.config.maxBodyBytes)] as const;

  r.post('/devices/:id/retire', ...itForm, async (c) => {
    const session = c.get('signedIn');
    const id = c.req.param('id');
    await retireDevice(deps, actorOf(session), id, { ip: clientIp(c) });
    return c.redirect(`/admin/devices/${id}`, 303);
  });

  r.post('/devices/:id/reenroll-token', ...itForm, async (c) => {
    const session = c.get('signedIn');
    const id = c.req.param('id');
    const token = await createReenrollToken(deps, actorOf(session), id, { ip: clientIp(c) });
    const server = new URL(c.req.url).origin;
    // Shown once, never stored in clear: the page must not be cached.
    c.header('cache-control', 'no-store');
    return c.html(page(c, {
      title: tr(c, 'portal.reenroll_button'),
      csrf: session.csrf,
      body: html`<p class="crumb"><a href="/admin/devices/${id}">←</a></p>
        <div class="info" id="reenroll-token" role="status">${tr(c, 'portal.reenroll_created', { days: REENROLL_TOKEN_DAYS, token })}<br><code>${tr(c, 'portal.reenroll_howto', { server, token })}</code></div>`,
    }));
  });

  return r;
}
