/**
 * Sign in / sign out and the language switch. Sign-in is rate limited per IP and per email
 * and answers the same for an unknown email and a wrong password.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { setCookie } from 'hono/cookie';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { clientIp, type AppContext, type AppEnv } from '../http/context.ts';
import { readForm } from '../http/body.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { verifyPassword, hashPassword } from '../crypto/secrets.ts';
import { createSession, endSession, SESSION_COOKIE } from '../auth/sessions.ts';
import { browserLabel } from '../auth/oauth.ts';
import { passwordSignInRefusal } from '../auth/sign-in-policy.ts';
import { assertCsrf, clearSessionCookie, cookieOptions, csrfTokenFor, isLocale, LOCALE_COOKIE, safeNext } from './session.ts';
import { csrfField, page, tr, type Html } from './layout.ts';
import { ssoSignInOptions } from './sso-pages.ts';

const DUMMY_HASH = hashPassword('keyward-timing-equalizer');

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
  const max = deps.config.maxBodyBytes;

  // People land on their devices; helpdesk and admins on the admin console.
  r.get('/', (c) => {
    const session = c.get('session');
    if (!session) return c.redirect('/login', 302);
    return c.redirect(session.user.role === 'user' ? '/devices' : '/admin/devices', 302);
  });

  r.get('/login', async (c) => {
    if (c.get('session')) return c.redirect(safeNext(c.req.query('next')), 302);
    const next = safeNext(c.req.query('next'));
    return c.html(loginPage(c, deps, next, '', null, await ssoSignInOptions(c, deps, next)));
  });

  r.post('/login', async (c) => {
    const form = await readForm(c, max);
    assertCsrf(c, form);
    const email = (form.email ?? '').trim().toLowerCase().slice(0, 200);
    const next = safeNext(form.next);
    const now = deps.clock.now().getTime();
    const limit = deps.config.rateLimits.loginPerMinute;
    if (!limiter.hit(`login:ip:${clientIp(c)}`, limit * 3, now) || !limiter.hit(`login:user:${email}`, limit, now)) {
      throw new ApiFailure(429, 'rate_limited');
    }
    const user = await deps.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    // An unknown email and an account without a password (single sign-on only) take as long as a wrong password.
    const ok = user && user.password_hash !== '' ? await verifyPassword(form.password ?? '', user.password_hash) : (await verifyPassword(form.password ?? '', await DUMMY_HASH), false);
    if (!user || !ok) return c.html(loginPage(c, deps, next, email, tr(c, 'portal.sign_in_failed'), await ssoSignInOptions(c, deps, next)), 401);
    // The right password, but a disabled account, an expired temporary password, or passwords turned off.
    const refusal = await passwordSignInRefusal(deps.db, user, deps.clock.now());
    if (refusal) return c.html(loginPage(c, deps, next, email, tr(c, refusal.message, { provider: refusal.provider ?? '' }), await ssoSignInOptions(c, deps, next)), 403);
    // Always a fresh session id; one the browser already had ends here.
    const previous = c.get('session');
    if (previous) await endSession(deps, previous.idHash);
    const session = await createSession(deps, user.id, { method: 'password', label: browserLabel(c.req.header('user-agent')) });
    setCookie(c, SESSION_COOKIE, session.token, cookieOptions(c, deps, deps.config.sessionHours * 3600));
    return c.redirect(next, 303);
  });

  r.post('/logout', async (c) => {
    const form = await readForm(c, max);
    assertCsrf(c, form);
    const session = c.get('session');
    if (session) await endSession(deps, session.idHash);
    clearSessionCookie(c);
    return c.redirect('/login', 303);
  });

  r.post('/locale', async (c) => {
    const form = await readForm(c, max);
    assertCsrf(c, form);
    if (!isLocale(form.locale)) throw new ApiFailure(400, 'invalid_input', { field: 'locale' });
    setCookie(c, LOCALE_COOKIE, form.locale, { ...cookieOptions(c, deps, 365 * 86400), httpOnly: true });
    const session = c.get('session');
    if (session) await deps.db.updateTable('users').set({ locale: form.locale }).where('id', '=', session.user.id).execute();
    return c.redirect(safeNext(form.next), 303);
  });

  return r;
}
