/**
 * The admin device page's lifecycle section and its forms (IT): retire the device (its agent's
 * credential is revoked at once; keys kept for the retention period), and, once retired, make a
 * one-time token that re-enrolls it, shown once on its own page.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { Device } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import { readForm } from '../http/body.ts';
import { isIt } from '../services/access.ts';
import { createReenrollToken, REENROLL_TOKEN_DAYS, retireDevice } from '../services/device-lifecycle.ts';
import { assertCsrf } from './session.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { actorOf, toLogin } from './device-pages.ts';

export function lifecycleSection(c: AppContext, device: Device, csrf: string, retentionDays: number): Html {
  return html`<section class="card" id="lifecycle" aria-labelledby="lifecycle-title">
    <h2 id="lifecycle-title">${tr(c, 'portal.retire_title')}</h2>
    ${device.retiredAt
      ? html`<form method="post" action="/admin/devices/${device.id}/reenroll-token">${csrfField(csrf)}<div class="actions"><button type="submit" id="reenroll">${tr(c, 'portal.reenroll_button')}</button></div></form>`
      : html`<p>${tr(c, 'portal.retire_explain', { days: retentionDays })}</p>
        <form method="post" action="/admin/devices/${device.id}/retire">${csrfField(csrf)}<div class="actions"><button type="submit" id="retire">${tr(c, 'portal.retire_button')}</button></div></form>`}
  </section>`;
}

export function deviceLifecyclePages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const max = deps.config.maxBodyBytes;

  r.post('/devices/:id/retire', async (c) => {
    const session = c.get('session');
    if (!session) return toLogin(c);
    if (!isIt(actorOf(session))) throw new ApiFailure(403, 'forbidden');
    assertCsrf(c, await readForm(c, max));
    const id = c.req.param('id');
    await retireDevice(deps, actorOf(session), id, { ip: clientIp(c) });
    return c.redirect(`/admin/devices/${id}`, 303);
  });

  r.post('/devices/:id/reenroll-token', async (c) => {
    const session = c.get('session');
    if (!session) return toLogin(c);
    if (!isIt(actorOf(session))) throw new ApiFailure(403, 'forbidden');
    assertCsrf(c, await readForm(c, max));
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
