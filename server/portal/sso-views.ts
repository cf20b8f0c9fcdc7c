/**
 * The single sign-on pieces other pages show: "Sign in with <provider>" on the sign-in page,
 * and "Connect <provider>" on the sessions page for a person signed in with a password.
 */
import { html } from 'hono/html';
import type { AppDeps } from '../deps.ts';
import type { AppContext } from '../http/context.ts';
import type { PortalSession } from '../auth/sessions.ts';
import { enabledSso } from '../auth/oidc-settings.ts';
import { csrfField, tr, type Html } from './layout.ts';

/** The "Sign in with <provider>" link for the sign-in page ('' when single sign-on is off). */
export async function ssoSignInOptions(c: AppContext, deps: AppDeps, next: string): Promise<Html | ''> {
  const stored = await enabledSso(deps.db);
  if (!stored) return '';
  const { settings } = stored;
  return html`<div class="card narrow" id="sso">
      <p><a class="button" id="sso-sign-in" href="/sso/start?next=${encodeURIComponent(next)}">${tr(c, 'portal.sso.sign_in_with', { provider: settings.name })}</a></p>
      <p class="muted" id="sso-password-note">${tr(c, settings.localPasswords ? 'portal.sso.or_password' : 'portal.sso.passwords_off_note')}</p>
    </div>`;
}

/**
 * The "Connect <provider>" form for a person signed in with a password whose account has no
 * provider link yet ('' otherwise). Its page must allow the provider as a form target.
 */
export async function ssoLinkForm(c: AppContext, deps: AppDeps, session: PortalSession): Promise<Html | ''> {
  const stored = await enabledSso(deps.db);
  if (!stored || session.user.oidc_subject !== null || session.authMethod !== 'password') return '';
  // The form's redirect to the provider is a form submission's navigation: CSP form-action must allow it.
  c.set('formActionExtra', new URL(stored.settings.issuer).origin);
  return html`<section class="card" id="sso-link" aria-labelledby="sso-link-title">
      <h2 id="sso-link-title">${tr(c, 'portal.sso.link_title', { provider: stored.settings.name })}</h2>
      <p>${tr(c, 'portal.sso.link_explain', { provider: stored.settings.name })}</p>
      <form method="post" action="/sso/link">${csrfField(session.csrf)}<div class="actions"><button type="submit" id="sso-link-button">${tr(c, 'portal.sso.link_button', { provider: stored.settings.name })}</button></div></form>
    </section>`;
}
