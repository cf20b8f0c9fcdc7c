/**
 * The Policy page's "Single sign-on" section: the organisation's OpenID Connect provider
 * (issuer, client id, client secret or private key, the redirect URI to register there, scopes,
 * the role claim and the values that make someone helpdesk or admin, the longest an SSO sign-in
 * counts) and whether local passwords still work, with the break-glass admin who keeps one.
 * Admins only, CSRF-checked, saved with one audit event (server/auth/oidc-settings.ts). The
 * stored secret is never shown again: an empty field keeps it.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { AppContext, AppEnv } from '../http/context.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import { CLIENT_AUTH_METHODS, DEFAULT_MAX_SESSION_HOURS, DEFAULT_SCOPES, loadSsoSettings, parseSsoForm, saveSso, type SsoInput } from '../auth/oidc-settings.ts';
import { breakGlassCandidates } from '../services/users.ts';
import { changeBy } from './session.ts';
import { csrfForm, requireRole, requireSession } from './guards.ts';
import { csrfField, tr, type Html } from './layout.ts';

const FIELD_LABELS: Record<string, MessageId> = {
  name: 'portal.sso.name',
  issuer: 'portal.sso.issuer',
  clientId: 'portal.sso.client_id',
  clientAuth: 'portal.sso.client_auth',
  clientSecret: 'portal.sso.client_secret',
  privateKey: 'portal.sso.private_key',
  keyId: 'portal.sso.key_id',
  redirectUri: 'portal.sso.redirect_uri',
  scopes: 'portal.sso.scopes',
  roleClaim: 'portal.sso.role_claim',
  adminValues: 'portal.sso.admin_values',
  helpdeskValues: 'portal.sso.helpdesk_values',
  maxSessionHours: 'portal.sso.max_session_hours',
  breakGlass: 'portal.sso.break_glass',
};

const AUTH_LABELS: Record<(typeof CLIENT_AUTH_METHODS)[number], MessageId> = {
  client_secret_basic: 'portal.sso.auth.client_secret_basic',
  client_secret_post: 'portal.sso.auth.client_secret_post',
  private_key_jwt: 'portal.sso.auth.private_key_jwt',
};

/** The notice after saving (`?sso=saved`), or null. */
export function ssoNotice(c: AppContext): string | null {
  return c.req.query('sso') === 'saved' ? tr(c, 'portal.sso.saved') : null;
}

export async function ssoSection(c: AppContext, deps: AppDeps, csrf: string): Promise<Html> {
  const [settings, admins] = await Promise.all([
    loadSsoSettings(deps.db),
    breakGlassCandidates(deps),
  ]);
  const origin = new URL(c.req.url).origin;
  const checked = (on: boolean) => (on ? 'checked' : '');
  const auth = settings?.clientAuth ?? 'client_secret_basic';
  const field = (name: string, value: string, extra: Html) =>
    html`<label for="sso-${name}">${tr(c, FIELD_LABELS[name])}</label><input type="text" id="sso-${name}" name="${name}" value="${value}" ${extra}>`;
  return html`<section class="card" id="sso" aria-labelledby="sso-title">
    <h2 id="sso-title">${tr(c, 'portal.sso.title')}</h2>
    <p class="muted">${tr(c, 'portal.sso.intro')}</p>
    <form method="post" action="/admin/sso" id="sso-form">
      ${csrfField(csrf)}
      <label><input type="checkbox" name="enabled" value="1" ${checked(settings?.enabled ?? false)}> ${tr(c, 'portal.sso.enabled')}</label>
      ${field('name', settings?.name ?? '', html`maxlength="60" required`)}
      ${field('issuer', settings?.issuer ?? '', html`maxlength="300" placeholder="https://login.example.com" required`)}
      ${field('clientId', settings?.clientId ?? '', html`maxlength="200" required`)}
      <label for="sso-clientAuth">${tr(c, 'portal.sso.client_auth')}</label>
      <select id="sso-clientAuth" name="clientAuth">${CLIENT_AUTH_METHODS.map((m) => html`<option value="${m}" ${m === auth ? 'selected' : ''}>${tr(c, AUTH_LABELS[m])}</option>`)}</select>
      <label for="sso-clientSecret">${tr(c, 'portal.sso.client_secret')}</label>
      <p class="hint" id="sso-secret-hint">${tr(c, settings ? 'portal.sso.secret_kept' : 'portal.sso.secret_hint')}</p>
      <input type="password" id="sso-clientSecret" name="clientSecret" autocomplete="off" aria-describedby="sso-secret-hint">
      <label for="sso-privateKey">${tr(c, 'portal.sso.private_key')}</label>
      <p class="hint" id="sso-key-hint">${tr(c, 'portal.sso.private_key_hint', { jwks: `${origin}/sso/jwks.json` })}</p>
      <textarea id="sso-privateKey" name="privateKey" rows="4" autocomplete="off" spellcheck="false" aria-describedby="sso-key-hint"></textarea>
      ${field('keyId', settings?.keyId ?? '', html`maxlength="100"`)}
      <label for="sso-redirectUri">${tr(c, 'portal.sso.redirect_uri')}</label>
      <p class="hint" id="sso-redirect-hint">${tr(c, 'portal.sso.redirect_hint')}</p>
      <input type="text" id="sso-redirectUri" name="redirectUri" maxlength="300" value="${settings?.redirectUri ?? `${origin}/sso/callback`}" aria-describedby="sso-redirect-hint" required>
      ${field('scopes', settings?.scopes ?? DEFAULT_SCOPES, html`maxlength="300" required`)}
      ${field('roleClaim', settings?.roleClaim ?? 'groups', html`maxlength="200" required`)}
      <label for="sso-adminValues">${tr(c, 'portal.sso.admin_values')}</label>
      <p class="hint" id="sso-values-hint">${tr(c, 'portal.sso.values_hint')}</p>
      <textarea id="sso-adminValues" name="adminValues" rows="2" aria-describedby="sso-values-hint">${(settings?.adminValues ?? []).join('\n')}</textarea>
      <label for="sso-helpdeskValues">${tr(c, 'portal.sso.helpdesk_values')}</label>
      <textarea id="sso-helpdeskValues" name="helpdeskValues" rows="2" aria-describedby="sso-values-hint">${(settings?.helpdeskValues ?? []).join('\n')}</textarea>
      <label for="sso-maxSessionHours">${tr(c, 'portal.sso.max_session_hours')}</label>
      <p class="hint" id="sso-hours-hint">${tr(c, 'portal.sso.max_session_hint')}</p>
      <input type="text" inputmode="numeric" id="sso-maxSessionHours" name="maxSessionHours" value="${settings?.maxSessionHours ?? DEFAULT_MAX_SESSION_HOURS}" aria-describedby="sso-hours-hint" required>
      <label><input type="checkbox" name="localPasswords" value="1" ${checked(settings?.localPasswords ?? true)}> ${tr(c, 'portal.sso.local_passwords')}</label>
      <label for="sso-breakGlass">${tr(c, 'portal.sso.break_glass')}</label>
      <p class="hint" id="sso-break-glass-hint">${tr(c, 'portal.sso.break_glass_hint')}</p>
      <select id="sso-breakGlass" name="breakGlass" aria-describedby="sso-break-glass-hint"><option value="">—</option>${admins.map(
        (a) => html`<option value="${a.email}" ${a.id === settings?.breakGlassUserId ? 'selected' : ''}>${a.name} (${a.email})</option>`,
      )}</select>
      <div class="actions"><button type="submit">${tr(c, 'ui.save')}</button></div>
    </form>
  </section>`;
}

export function ssoSettingsPages(deps: AppDeps): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  r.post('/sso', requireSession(), requireRole('admin'), csrfForm(deps.config.maxBodyBytes), async (c) => {
    const form = c.get('form');
    let input: SsoInput;
    try {
      input = parseSsoForm(form);
      await saveSso(deps, input, { ...changeBy(c, deps), actorKind: 'user' });
    } catch (error) {
      // Name the field in words, so the admin knows what to fix.
      if (error instanceof ApiFailure && error.code === 'invalid_input' && error.field && FIELD_LABELS[error.field]) {
        throw new ApiFailure(400, 'invalid_input', { field: error.field, detail: tr(c, 'portal.sso.invalid_field', { field: tr(c, FIELD_LABELS[error.field]) }) });
      }
      throw error;
    }
    return c.redirect('/admin/policy?sso=saved#sso', 303);
  });

  return r;
}
