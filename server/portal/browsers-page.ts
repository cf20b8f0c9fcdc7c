/** "Connected browsers": the extension sign-ins (OAuth grants) of the user, each revocable. */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import { readForm } from '../http/body.ts';
import { listConnectedBrowsers, revokeConnectedBrowser } from '../auth/oauth.ts';
import { assertCsrf, formatTime } from './session.ts';
import { csrfField, page, tr } from './layout.ts';
import { toLogin } from './device-pages.ts';

export function browsersPage(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.get('/browsers', async (c) => {
    const session = c.get('session');
    if (!session) return toLogin(c);
    const browsers = await listConnectedBrowsers(deps, session.user.id);
    const locale = c.get('locale');
    return c.html(
      page(c, {
        title: tr(c, 'portal.nav.browsers'),
        csrf: session.csrf,
        body: html`${c.req.query('revoked') === '1' ? html`<p class="info" role="status">${tr(c, 'portal.revoked')}</p>` : ''}
          <p>${tr(c, 'portal.browsers_intro')}</p>
          ${browsers.length
            ? html`<table id="browsers"><tr><th></th><th>${tr(c, 'portal.connected_at')}</th><th>${tr(c, 'portal.last_used')}</th><th></th></tr>
              ${browsers.map((b) => html`<tr data-browser="${b.id}"><td>${b.label}</td><td>${formatTime(locale, b.createdAt)}</td><td>${formatTime(locale, b.lastUsedAt)}</td>
                <td><form method="post" action="/browsers/${b.id}/revoke">${csrfField(session.csrf)}<button type="submit">${tr(c, 'portal.revoke')}</button></form></td></tr>`)}
              </table>`
            : html`<p class="muted" id="no-browsers">${tr(c, 'portal.browsers_none')}</p>`}`,
      }),
    );
  });

  r.post('/browsers/:id/revoke', async (c) => {
    const session = c.get('session');
    if (!session) return toLogin(c);
    const form = await readForm(c, deps.config.maxBodyBytes);
    assertCsrf(c, form);
    await revokeConnectedBrowser(deps, session.user.id, c.req.param('id'));
    return c.redirect('/browsers?revoked=1', 303);
  });

  return r;
}
