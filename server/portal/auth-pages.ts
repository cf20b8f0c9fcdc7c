/**
 * Sign in / sign out and the language switch. Sign-in answers the same for an unknown email
 * and a wrong password, and is throttled so that nobody can lock someone else out: a browser
 * that signed in to the account before (a valid device cookie) is counted only against that
 * cookie; any other attempt counts per client, per (account, client) and against the
 * account's shared allowance for unknown browsers. Over it, the form says how long to wait.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppDeps } from '../deps.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import { clientBucket, consumeAll, retryAfterSeconds, waitMessage, type Bucket, type RateLimiter } from '../http/rate-limit.ts';
import { DEVICE_COOKIE, DEVICE_COOKIE_DAYS, DeviceCookies } from '../auth/device-cookies.ts';
import { verifyPassword, hashPassword } from '../crypto/secrets.ts';
import { createSession, endSession, SESSION_COOKIE } from '../auth/sessions.ts';
import { browserLabel } from '../auth/oauth.ts';
import { passwordSignInRefusal } from '../auth/sign-in-policy.ts';
import { Locale } from '../../lib/api/contract.ts';
import { isIt } from '../services/access.ts';
import { findUserByEmail, saveUserLocale } from '../services/users.ts';
import { actorOf, clearSessionCookie, cookieOptions, csrfTokenFor, LOCALE_COOKIE, safeNext } from './session.ts';
import { csrfForm } from './guards.ts';
import { parseForm, text, trimmed } from './forms.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { ssoSignInOptions } from './sso-views.ts';

const DUMMY_HASH = hashPassword('keyward-timing-equalizer');

/**
 * Which allowances a sign-in attempt counts against (limit = `loginPerMinute`): a known
 * browser only its own; anyone else the client's (3×, for guessing across accounts), the
 * (account, client) pair's, and the account's shared allowance for unknown browsers (3×, so
 * that one client alone cannot use it up).
 */
function signInBuckets(limit: number, email: string, ip: string, trustedNonce: string | null): Bucket[] {
  if (trustedNonce) return [{ key: `login:device:${trustedNonce}`, limit }];
  const client = clientBucket(ip);
  return [
    { key: `login:client:${client}`, limit: limit * 3 },
    { key: `login:account-client:${email}|${client}`, limit },
    { key: `login:account:${email}`, limit: limit * 3 },
  ];
}

/** Never refused as such: a wrong email or password is the sign-in page saying so. */
const LoginForm = z.object({
  email: trimmed().transform((email) => email.toLowerCase().slice(0, 200)),
  password: text(),
  next: text().transform(safeNext),
});

const LocaleForm = z.object({
  locale: Locale,
  next: text().transform(safeNext),
});

function loginPage(c: AppContext, deps: AppDeps, next: string, email: string, error: string | null, sso: Html | '' = '') {
  const csrf = csrfTokenFor(c, deps);
  return page(c, {
    title: tr(c, 'portal.sign_in_title'),
    csrf,
    body: html`${sso}<form method="post" action="/login" class="card narrow" id="login-form">
      ${csrfField(csrf)}<input type="hidden" name="next" value="${next}">
      ${error ? html`<p class="error" id="login-error" role="alert">${error}</p>` : ''}
      <label for="email">${tr(c, 'ui.email')}</label><input type="email" id="email" name="email" value="${email}" autocomplete="username" required ${error ? html`aria-describedby="login-error"` : ''}>
      <label for="password">${tr(c, 'ui.password')}</label><input type="password" id="password" name="password" autocomplete="current-password" required ${error ? html`aria-invalid="true" aria-describedby="login-error" autofocus` : ''}>
      <div class="actions"><button type="submit">${tr(c, 'ui.sign_in')}</button></div>
    </form>`,
  });
}

export function authPages(deps: AppDeps, limiter: RateLimiter): Hono<AppEnv> {
  const r = new Hono<AppEnv>();
  const checkedForm = csrfForm(deps.config.maxBodyBytes);
  const deviceCookies = new DeviceCookies(deps);

  // People land on their devices; helpdesk and admins on the admin console.
  r.get('/', (c) => {
    const session = c.get('session');
    if (!session) return c.redirect('/login', 302);
    return c.redirect(isIt(actorOf(session)) ? '/admin/devices' : '/devices', 302);
  });

  r.get('/login', async (c) => {
    if (c.get('session')) return c.redirect(safeNext(c.req.query('next')), 302);
    const next = safeNext(c.req.query('next'));
    return c.html(loginPage(c, deps, next, '', null, await ssoSignInOptions(c, deps, next)));
  });

  r.post('/login', checkedForm, async (c) => {
    const { email, password, next } = parseForm(LoginForm, c.get('form'));
    const user = await findUserByEmail(deps, email);
    const deviceCookie = getCookie(c, DEVICE_COOKIE);
    const trustedNonce = user ? await deviceCookies.trustedNonce(deviceCookie, user.id) : null;
    const buckets = signInBuckets(deps.config.rateLimits.loginPerMinute, email, clientIp(c), trustedNonce);
    const decision = await consumeAll(limiter, buckets, deps.clock.now().getTime());
    if (!decision.allowed) {
      c.header('Retry-After', retryAfterSeconds(decision));
      return c.html(loginPage(c, deps, next, email, waitMessage(c.get('locale'), decision)), 429);
    }
    // An unknown email and an account without a password (single sign-on only) take as long as a wrong password.
    const ok = user && user.password_hash !== '' ? await verifyPassword(password, user.password_hash) : (await verifyPassword(password, await DUMMY_HASH), false);
    if (!user || !ok) return c.html(loginPage(c, deps, next, email, tr(c, 'portal.sign_in_failed'), await ssoSignInOptions(c, deps, next)), 401);
    // The right password, but a disabled account, an expired temporary password, or passwords turned off.
    const refusal = await passwordSignInRefusal(deps.db, user, deps.clock.now());
    if (refusal) return c.html(loginPage(c, deps, next, email, tr(c, refusal.message, { provider: refusal.provider ?? '' }), await ssoSignInOptions(c, deps, next)), 403);
    // Always a fresh session id; one the browser already had ends here.
    const previous = c.get('session');
    if (previous) await endSession(deps, previous.idHash);
    const session = await createSession(deps, user.id, { method: 'password', label: browserLabel(c.req.header('user-agent')) });
    setCookie(c, SESSION_COOKIE, session.token, cookieOptions(c, deps, deps.config.sessionHours * 3600));
    // Sent back only to the sign-in form, never by another site.
    setCookie(c, DEVICE_COOKIE, await deviceCookies.issue(deviceCookie, user.id), { ...cookieOptions(c, deps, DEVICE_COOKIE_DAYS * 86_400), sameSite: 'Strict', path: '/login' });
    return c.redirect(next, 303);
  });

  r.post('/logout', checkedForm, async (c) => {
    const session = c.get('session');
    if (session) await endSession(deps, session.idHash);
    clearSessionCookie(c);
    return c.redirect('/login', 303);
  });

  r.post('/locale', checkedForm, async (c) => {
    const { locale, next } = parseForm(LocaleForm, c.get('form'));
    setCookie(c, LOCALE_COOKIE, locale, { ...cookieOptions(c, deps, 365 * 86400), httpOnly: true });
    const session = c.get('session');
    if (session) await saveUserLocale(deps, session.user.id, locale);
    return c.redirect(next, 303);
  });

  return r;
}
