/**
 * A person's own sessions and connected browsers: the extension sign-ins (OAuth grants), each
 * revocable, with the allow-listed extension and browser it came through, the operating system
 * its user agent named, when it connected and when it last used the service; then the portal
 * sessions (browser, how they signed in, when, until when), each of which can be ended — this
 * one included, which signs out here. Both are audited. A person signed in with a password may
 * connect their organisation account (single sign-on) here, and change their password.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http/context.ts';
import { listConnectedBrowsers, type ConnectedBrowser } from '../auth/oauth.ts';
import { listSessions, type PortalSession, type SessionSummary } from '../auth/sessions.ts';
import { endOwnSession, revokeOwnBrowser } from '../services/accounts.ts';
import type { AppContext } from '../http/context.ts';
import { clearSessionCookie, formatTime, ownChange } from './session.ts';
import { csrfForm, requireSession } from './guards.ts';
import { parseForm, text } from './forms.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { ssoLinkForm } from './sso-views.ts';

function browserCell(c: AppContext, b: ConnectedBrowser): string {
  return b.os ? tr(c, 'portal.browsers.on_os', { browser: b.browser, os: b.os }) : b.browser;
}

const NOTICES = { revoked: 'portal.revoked', ended: 'portal.sessions.ended', linked: 'portal.sso.linked' } as const;

function sessionsSection(c: AppContext, session: PortalSession, sessions: SessionSummary[]): Html {
  const locale = c.get('locale');
  // Header cells carry a data-col so the browsers table above stays the page's plain column list.
  const th = (id: string, label: string) => html`<th scope="col" data-col="${id}">${label}</th>`;
  return html`<section class="card" id="sessions" aria-labelledby="sessions-title">
    <h2 id="sessions-title">${tr(c, 'portal.sessions.title')}</h2>
    <p class="muted">${tr(c, 'portal.sessions.intro')}</p>
    <div class="scroll"><table id="session-list">
      <tr>${th('browser', tr(c, 'portal.client.browser'))}${th('method', tr(c, 'portal.sessions.method'))}${th('since', tr(c, 'portal.sessions.since'))}${th('until', tr(c, 'portal.sessions.until'))}${th('actions', tr(c, 'portal.actions'))}</tr>
      ${sessions.map((s) => {
        const current = s.idHash === session.idHash;
        return html`<tr data-session="${s.idHash}" ${current ? html`data-current="1"` : ''}>
          <td data-cell="browser">${s.label || tr(c, 'portal.sessions.unknown_browser')}${current ? html` <strong>(${tr(c, 'portal.sessions.this_one')})</strong>` : ''}</td>
          <td data-cell="method">${tr(c, s.authMethod === 'sso' ? 'portal.sessions.method_sso' : 'portal.sessions.method_password')}</td>
          <td><time datetime="${s.createdAt}">${formatTime(locale, s.createdAt)}</time></td><td><time datetime="${s.expiresAt}">${formatTime(locale, s.expiresAt)}</time></td>
          <td><form method="post" action="/sessions/end">${csrfField(session.csrf)}<input type="hidden" name="session" value="${s.idHash}"><button type="submit">${tr(c, current ? 'portal.sessions.end_this' : 'portal.sessions.end')}</button></form></td></tr>`;
      })}
    </table></div>
    ${session.user.password_hash !== '' ? html`<p><a href="/account/password" id="change-password">${tr(c, 'portal.account.change_password')}</a></p>` : ''}
  </section>`;
}

/** Which session to end: its id hash. */
const EndSessionForm = z.object({ session: text() });

export function browsersPage(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const signedIn = requireSession();
  const checkedForm = csrfForm(deps.config.maxBodyBytes);

  r.get('/browsers', signedIn, async (c) => {
    const session = c.get('signedIn');
    const [browsers, sessions, link] = await Promise.all([listConnectedBrowsers(deps, session.user.id), listSessions(deps, session.user.id), ssoLinkForm(c, deps, session)]);
    const locale = c.get('locale');
    const done = Object.keys(NOTICES).find((k): k is keyof typeof NOTICES => c.req.query(k) === '1');
    return c.html(
      page(c, {
        title: tr(c, 'portal.nav.sessions'),
        csrf: session.csrf,
        body: html`${done ? html`<p class="info" role="status">${tr(c, NOTICES[done])}</p>` : ''}
          <h2>${tr(c, 'portal.nav.browsers')}</h2>
          <p>${tr(c, 'portal.browsers_intro')}</p>
          ${browsers.length
            ? html`<div class="scroll"><table id="browsers">
              <tr><th scope="col">${tr(c, 'portal.client.extension')}</th><th scope="col">${tr(c, 'portal.client.browser')}</th><th scope="col">${tr(c, 'portal.connected_at')}</th><th scope="col">${tr(c, 'portal.last_used')}</th><th scope="col">${tr(c, 'portal.actions')}</th></tr>
              ${browsers.map((b) => html`<tr data-browser="${b.id}">
                <td data-cell="extension">${b.name}<br><code class="muted">${b.extensionId}</code></td><td data-cell="browser">${browserCell(c, b)}</td>
                <td data-cell="connected"><time datetime="${b.createdAt}">${formatTime(locale, b.createdAt)}</time></td><td data-cell="last-used"><time datetime="${b.lastUsedAt}">${formatTime(locale, b.lastUsedAt)}</time></td>
                <td><form method="post" action="/browsers/${b.id}/revoke">${csrfField(session.csrf)}<button type="submit">${tr(c, 'portal.revoke')}</button></form></td></tr>`)}
              </table></div>`
            : html`<p class="muted" id="no-browsers">${tr(c, 'portal.browsers_none')}</p>`}
          ${sessionsSection(c, session, sessions)}
          ${link}`,
      }),
    );
  });

  r.post('/browsers/:id/revoke', signedIn, checkedForm, async (c) => {
    await revokeOwnBrowser(deps, c.req.param('id'), ownChange(c, deps));
    return c.redirect('/browsers?revoked=1', 303);
  });

  // The session travels in the form: its id is the hash the service keys sessions by, never the cookie.
  r.post('/sessions/end', signedIn, checkedForm, async (c) => {
    const session = c.get('signedIn');
    const { session: target } = parseForm(EndSessionForm, c.get('form'));
    await endOwnSession(deps, target, ownChange(c, deps));
    if (target === session.idHash) {
      clearSessionCookie(c);
      return c.redirect('/login', 303);
    }
    return c.redirect('/browsers?ended=1', 303);
  });

  return r;
}
