/**
 * The portal's page frame: language, header with navigation and sign-out, the language
 * switch, the stylesheet (nonce'd for the CSP), and the extension's `data-keyward-portal`
 * marker on <body>. All text goes through `t()`; all values through `html` escaping.
 */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Locale } from '../../lib/api/contract.ts';
import { t } from '../../lib/i18n/index.ts';
import { LANGUAGE_NAMES, LOCALES } from '../../lib/i18n/locales.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import type { AppContext } from '../http/context.ts';
import { STYLES } from './styles.ts';
import { isDemoAccount } from '../demo-accounts.ts';
import { isAdmin, isIt } from '../services/access.ts';
import { actorOf } from './session.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;


export function tr(c: AppContext, id: MessageId, params?: Record<string, string | number>): string {
  return t(c.get('locale'), id, params);
}

/** The CSRF token forms on this page must carry (session's, or the pre-sign-in cookie's). */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function languageSwitch(c: AppContext, csrf: string): Html {
  const locale = c.get('locale');
  return html`<form method="post" action="/locale" class="lang">
    ${csrfField(csrf)}<input type="hidden" name="next" value="${c.req.path}">
    <label>${tr(c, 'portal.language')}
      <select name="locale">${LOCALES.map((l) => html`<option value="${l}" ${l === locale ? 'selected' : ''}>${LANGUAGE_NAMES[l]}</option>`)}</select>
    </label>
    <button type="submit">${tr(c, 'portal.change')}</button>
  </form>`;
}

export type PageOptions = { title: string; body: Html; csrf: string; toast?: string | null; script?: string };

export function page(c: AppContext, o: PageOptions): Html {
  const nonce = c.get('cspNonce');
  const locale = c.get('locale');
  const session = c.get('session');
  const path = c.req.path;
  // The current section's link is marked for assistive technology (and styled).
  const link = (href: string, label: string) =>
    html`<a href="${href}" ${path === href || path.startsWith(`${href}/`) ? html`aria-current="page"` : ''}>${label}</a>`;
  const nav = session
    ? html`<nav>
        ${link('/devices', tr(c, 'ui.my_devices'))}
        ${link('/browsers', tr(c, 'portal.nav.sessions'))}
        ${isIt(actorOf(session)) ? link('/admin/devices', tr(c, 'portal.nav.admin')) : ''}
        ${isAdmin(actorOf(session)) ? html`${link('/admin/policy', tr(c, 'portal.nav.policy'))}${link('/admin/users', tr(c, 'portal.nav.users'))}` : ''}
      </nav>
      <div class="account">
        <span class="who">${tr(c, 'portal.signed_in_as', { name: session.user.name })}${isDemoAccount(session.user.email) ? html` <strong class="demo-badge">${tr(c, 'portal.demo_account')}</strong>` : ''}</span>
        <form method="post" action="/logout" class="inline">${csrfField(o.csrf)}<button type="submit">${tr(c, 'ui.sign_out')}</button></form>
      </div>`
    : '';
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${tr(c, 'portal.title')}</title>
<style nonce="${nonce}">${raw(STYLES)}</style>
</head>
<body data-keyward-portal="1" data-keyward-locale="${locale}">
<a class="skip" href="#main">${tr(c, 'portal.skip_to_content')}</a>
<header><a class="brand" href="/">${tr(c, 'portal.title')}</a>${nav}${languageSwitch(c, o.csrf)}</header>
${o.toast ? html`<div class="toast" role="alert" id="keyward-toast">${o.toast}</div>` : ''}
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
${o.body}
</main>
${o.script ? html`<script nonce="${nonce}">${raw(o.script)}</script>` : ''}
</body>
</html>`;
}
