/**
 * "Connected browsers": the extension sign-ins (OAuth grants) of the user, each revocable, with
 * the allow-listed extension and browser it came through, the operating system its user agent
 * named, when it connected and when it last used the service.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import { readForm } from '../http/body.ts';
import { listConnectedBrowsers, revokeConnectedBrowser, type ConnectedBrowser } from '../auth/oauth.ts';
import type { AppContext } from '../http/context.ts';
import { assertCsrf, formatTime } from './session.ts';
import { csrfField, page, tr } from './layout.ts';
import { toLogin } from './device-pages.ts';

function browserCell(c: AppContext, b: ConnectedBrowser): string {
  return b.os ? tr(c, 'portal.browsers.on_os', { browser: b.browser, os: b.os }) : b.browser;
}

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
            ? html`<div class="scroll"><table id="browsers">
              <tr><th scope="col">${tr(c, 'portal.client.extension')}</th><th scope="col">${tr(c, 'portal.client.browser')}</th><th scope="col">${tr(c, 'portal.connected_at')}</th><th scope="col">${tr(c, 'portal.last_used')}</th><th scope="col">${tr(c, 'portal.actions')}</th></tr>
              ${browsers.map((b) => html`<tr data-browser="${b.id}">
                <td data-cell="extension">${b.name}<br><code class="muted">${b.extensionId}</code></td><td data-cell="browser">${browserCell(c, b)}</td>
                <td data-cell="connected"><time datetime="${b.createdAt}">${formatTime(locale, b.createdAt)}</time></td><td data-cell="last-used"><time datetime="${b.lastUsedAt}">${formatTime(locale, b.lastUsedAt)}</time></td>
                <td><form method="post" action="/browsers/${b.id}/revoke">${csrfField(session.csrf)}<button type="submit">${tr(c, 'portal.revoke')}</button></form></td></tr>`)}
              </table></div>`
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
