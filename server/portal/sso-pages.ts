/**
 * Signing in with the organisation's OpenID Connect provider: `GET /sso/start` (the sign-in
 * page's "Sign in with <provider>" link) and `POST /sso/link` (a password-signed-in person
 * connecting their provider account) record the sign-in's `state`, `nonce` and PKCE verifier
 * server-side, bound to this browser by an HttpOnly cookie, and send the browser to the
 * provider; `GET /sso/callback` takes that record (once), lets openid-client check the answer,
 * finds or creates the account and starts a portal session. Anything that goes wrong is a
 * localized page saying what happened and what to do — never a 500. `GET /sso/jwks.json`
 * publishes the public key for `private_key_jwt`. The link and the form themselves are drawn
 * by sso-views.ts.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { randomToken } from '../crypto/secrets.ts';
import { recordSsoLogin, takeSsoLogin } from '../services/sso-logins.ts';
import { browserLabel } from '../auth/oauth.ts';
import { createSession, endSession, SESSION_COOKIE } from '../auth/sessions.ts';
import { enabledSso, openClientCredential, type StoredSso } from '../auth/oidc-settings.ts';
import { OidcRelyingParty, SsoFailure, type SsoFailureReason } from '../auth/oidc.ts';
import { accountForIdentity } from '../auth/oidc-accounts.ts';
import { publicJwk } from '../auth/oidc-client-key.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import { cookieOptions, safeNext } from './session.ts';
import { csrfForm, requireSession } from './guards.ts';
import { page, tr } from './layout.ts';

const SSO_COOKIE = 'kw_sso';
const SSO_COOKIE_PATH = '/sso';
/** Minutes a sign-in may spend at the provider. */
const LOGIN_MINUTES = 10;

type Failure = { status: 400 | 403 | 404 | 409 | 502; message: string; reason: string; detail?: string };

const REASON_DETAILS: Partial<Record<SsoFailureReason, MessageId>> = {
  state: 'portal.sso.reason.state',
  nonce: 'portal.sso.reason.nonce',
  expired: 'portal.sso.reason.expired',
  signature: 'portal.sso.reason.signature',
  claims: 'portal.sso.reason.claims',
};

function failureFor(c: AppContext, provider: string, error: SsoFailure): Failure {
  switch (error.reason) {
    case 'unreachable':
      return { status: 502, reason: error.reason, message: tr(c, 'portal.sso.unreachable', { provider }) };
    case 'misconfigured':
      return { status: 502, reason: error.reason, message: tr(c, 'portal.sso.misconfigured', { provider }) };
    case 'refused':
      return { status: 400, reason: error.reason, message: tr(c, 'portal.sso.refused', { provider }) };
    case 'no_email':
      return { status: 400, reason: error.reason, message: tr(c, 'portal.sso.no_email', { provider }) };
    default: {
      const detail = REASON_DETAILS[error.reason];
      return { status: 400, reason: error.reason, message: tr(c, 'portal.sso.rejected', { provider }), detail: detail ? tr(c, detail) : undefined };
    }
  }
}

function failurePage(c: AppContext, provider: string, failure: Failure) {
  const csrf = c.get('session')?.csrf ?? '';
  return c.html(
    page(c, {
      title: tr(c, 'portal.sso.failed_title', { provider: provider || tr(c, 'portal.sso.provider_fallback') }),
      csrf,
      body: html`<div class="notice" id="sso-error" data-status="${failure.status}" data-reason="${failure.reason}" role="alert">
          <p class="error">${failure.message}</p>${failure.detail ? html`<p class="muted" id="sso-error-detail">${failure.detail}</p>` : ''}
        </div>
        <p><a href="/login">${tr(c, 'portal.sso.back_to_sign_in')}</a></p>`,
    }),
    failure.status,
  );
}

export function ssoPages(deps: AppDeps, limiter: RateLimiter): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const relyingParty = new OidcRelyingParty(deps);

  /** Records a sign-in at the provider for this browser and sends the browser there. */
  async function begin(c: AppContext, stored: StoredSso, next: string, linkUserId: string | null) {
    const now = deps.clock.now();
    // Generous (a whole office may share one address): it only bounds the sign-in records one client can make.
    if (!(await limiter.hit(`sso:ip:${clientIp(c)}`, deps.config.rateLimits.loginPerMinute * 20, now.getTime()))) throw new ApiFailure(429, 'rate_limited');
    let started: Awaited<ReturnType<OidcRelyingParty['start']>>;
    try {
      started = await relyingParty.start(stored);
    } catch (error) {
      if (!(error instanceof SsoFailure)) throw error;
      console.warn(`keyward: single sign-on could not start (${error.reason}): ${error.message}`);
      return failurePage(c, stored.settings.name, failureFor(c, stored.settings.name, error));
    }
    const token = randomToken();
    await recordSsoLogin(deps, token, { checks: started.checks, next, linkUserId, validMinutes: LOGIN_MINUTES }, now);
    setCookie(c, SSO_COOKIE, token, { ...cookieOptions(c, deps, LOGIN_MINUTES * 60), path: SSO_COOKIE_PATH });
    return c.redirect(started.url, 303);
  }

  // A link, not a form: starting a sign-in changes nothing, and the answer is bound to this browser's cookie.
  r.get('/sso/start', async (c) => {
    const stored = await enabledSso(deps.db);
    if (!stored) return failurePage(c, '', { status: 404, reason: 'not_configured', message: tr(c, 'portal.sso.not_configured') });
    return begin(c, stored, safeNext(c.req.query('next')), null);
  });

  r.post('/sso/link', requireSession(), csrfForm(deps.config.maxBodyBytes), async (c) => {
    const session = c.get('signedIn');
    const stored = await enabledSso(deps.db);
    if (!stored) return failurePage(c, '', { status: 404, reason: 'not_configured', message: tr(c, 'portal.sso.not_configured') });
    return begin(c, stored, '/browsers?linked=1', session.user.id);
  });

  r.get('/sso/callback', async (c) => {
    const token = getCookie(c, SSO_COOKIE);
    deleteCookie(c, SSO_COOKIE, { path: SSO_COOKIE_PATH });
    const stored = await enabledSso(deps.db);
    const provider = stored?.settings.name ?? '';
    // The sign-in record works once: taken (deleted) before the provider's answer is looked at.
    const login = token ? await takeSsoLogin(deps, token) : undefined;
    const at = nowIso(deps);
    if (!login || login.expires_at <= at) return failurePage(c, provider, { status: 400, reason: 'login_expired', message: tr(c, 'portal.sso.login_expired', { minutes: LOGIN_MINUTES }) });
    if (!stored) return failurePage(c, '', { status: 404, reason: 'not_configured', message: tr(c, 'portal.sso.not_configured') });
    let identity: Awaited<ReturnType<OidcRelyingParty['finish']>>;
    try {
      identity = await relyingParty.finish(stored, new URL(c.req.url).search, { state: login.state, nonce: login.nonce, codeVerifier: login.code_verifier });
    } catch (error) {
      if (!(error instanceof SsoFailure)) throw error;
      console.warn(`keyward: single sign-on refused (${error.reason}): ${error.message}`);
      return failurePage(c, provider, failureFor(c, provider, error));
    }
    const outcome = await accountForIdentity(deps, stored.settings, identity, login.link_user_id, { ip: clientIp(c), at });
    switch (outcome.kind) {
      case 'disabled':
        return failurePage(c, provider, { status: 403, reason: 'account_disabled', message: tr(c, 'portal.account.disabled_sign_in') });
      case 'email_taken':
        return failurePage(c, provider, { status: 409, reason: 'email_taken', message: tr(c, 'portal.sso.email_taken', { provider, email: outcome.email }) });
      case 'already_linked':
        return failurePage(c, provider, { status: 409, reason: 'already_linked', message: tr(c, 'portal.sso.already_linked', { provider }) });
      case 'signed_in': {
        // Always a fresh session id; one the browser already had ends here.
        const previous = c.get('session');
        if (previous) await endSession(deps, previous.idHash);
        const session = await createSession(deps, outcome.user.id, { method: 'sso', label: browserLabel(c.req.header('user-agent')), maxHours: stored.settings.maxSessionHours });
        setCookie(c, SESSION_COOKIE, session.token, cookieOptions(c, deps, Math.min(deps.config.sessionHours, stored.settings.maxSessionHours) * 3600));
        return c.redirect(safeNext(login.next), 303);
      }
    }
  });

  r.get('/sso/jwks.json', async (c) => {
    const stored = await enabledSso(deps.db);
    const jwk = stored && stored.settings.clientAuth === 'private_key_jwt' ? publicJwk(openClientCredential(deps, stored.sealed), stored.settings.keyId) : null;
    return c.json({ keys: jwk ? [jwk] : [] });
  });

  return r;
}
