/**
 * A person's own password: `/account/password` changes it (the current one, then the new one
 * twice, at least 12 characters). Someone signed in with a temporary password from an admin is
 * sent here from every other page until they have chosen their own. Changing it ends the
 * person's other sessions and is audited. Guessing the current password is rate limited.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { html } from 'hono/html';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import type { AppContext, AppEnv } from '../http/context.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { verifyPassword } from '../crypto/secrets.ts';
import type { PortalSession } from '../auth/sessions.ts';
import { changeOwnPassword } from '../services/accounts.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import { formatTime, ownChange } from './session.ts';
import { csrfForm, requireSession } from './guards.ts';
import { parseForm, text } from './forms.ts';
import { csrfField, page, tr, type Html } from './layout.ts';

const PASSWORD_PATH = '/account/password';
/** What someone with a temporary password may still reach: this page, signing out or in another way, the language switch. */
const OPEN_WITH_TEMPORARY_PASSWORD = new Set([PASSWORD_PATH, '/logout', '/locale', '/favicon.ico', '/sso/start', '/sso/callback']);

function mustChangePassword(session: PortalSession | null): boolean {
  return session !== null && session.authMethod === 'password' && session.user.password_temporary_until !== null;
}

/** Sends a person signed in with a temporary password to choose their own first. */
export function temporaryPasswordGate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (mustChangePassword(c.get('session')) && !OPEN_WITH_TEMPORARY_PASSWORD.has(c.req.path)) return c.redirect(PASSWORD_PATH, 303);
    await next();
  };
}

/** Checked in the handler, in the order the page explains them (the current password first). */
const PasswordForm = z.object({ current: text(), password: text(), confirm: text() });

type FormError = { field: 'current' | 'password' | 'confirm'; message: MessageId };

function passwordPage(c: AppContext, session: PortalSession, state: { error?: FormError; done?: boolean }): Html {
  const invalid = (field: FormError['field']) => (state.error?.field === field ? html`aria-invalid="true" aria-describedby="password-error"` : '');
  const temporaryUntil = mustChangePassword(session) ? formatTime(c.get('locale'), session.user.password_temporary_until) : null;
  return page(c, {
    title: tr(c, 'portal.account.password_title'),
    csrf: session.csrf,
    body: html`${state.done ? html`<p class="info" role="status" id="password-changed">${tr(c, 'portal.account.password_changed')}</p>` : ''}
      ${temporaryUntil ? html`<p class="info" id="password-temporary">${tr(c, 'portal.account.password_temporary', { time: temporaryUntil })}</p>` : ''}
      <form method="post" action="${PASSWORD_PATH}" class="card narrow" id="password-form">
        ${csrfField(session.csrf)}
        ${state.error ? html`<p class="error" role="alert" id="password-error">${tr(c, state.error.message)}</p>` : ''}
        <label for="current">${tr(c, 'portal.account.current_password')}</label><input type="password" id="current" name="current" autocomplete="current-password" required ${invalid('current')}>
        <label for="password">${tr(c, 'portal.account.new_password')}</label><input type="password" id="password" name="password" minlength="12" maxlength="200" autocomplete="new-password" required ${invalid('password')}>
        <label for="confirm">${tr(c, 'portal.account.confirm_password')}</label><input type="password" id="confirm" name="confirm" minlength="12" maxlength="200" autocomplete="new-password" required ${invalid('confirm')}>
        <div class="actions"><button type="submit">${tr(c, 'portal.account.change_password')}</button></div>
      </form>`,
  });
}

export function accountPages(deps: AppDeps, limiter: RateLimiter): Hono<AppEnv> {
  const r = new Hono<AppEnv>();

  /** Only accounts with a Keyward password have one to change. */
  const withPassword = createMiddleware<AppEnv>(async (c, next) => {
    if (c.get('signedIn').user.password_hash === '') throw new ApiFailure(404, 'not_found', { detail: tr(c, 'portal.account.no_password') });
    await next();
  });
  const localAccount = [requireSession(), withPassword] as const;

  r.get(PASSWORD_PATH, ...localAccount, (c) => {
    const session = c.get('signedIn');
    return c.html(passwordPage(c, session, { done: c.req.query('done') === '1' }));
  });

  r.post(PASSWORD_PATH, ...localAccount, csrfForm(deps.config.maxBodyBytes), async (c) => {
    const session = c.get('signedIn');
    const { current, password, confirm } = parseForm(PasswordForm, c.get('form'));
    if (!(await limiter.hit(`password:user:${session.user.id}`, deps.config.rateLimits.loginPerMinute, deps.clock.now().getTime()))) throw new ApiFailure(429, 'rate_limited');
    const refuse = (error: FormError) => c.html(passwordPage(c, session, { error }), 400);
    if (!(await verifyPassword(current, session.user.password_hash))) return refuse({ field: 'current', message: 'portal.account.current_wrong' });
    if (password.length < 12 || password.length > 200) return refuse({ field: 'password', message: 'portal.account.password_short' });
    if (password !== confirm) return refuse({ field: 'confirm', message: 'portal.account.password_mismatch' });
    if (password === current) return refuse({ field: 'password', message: 'portal.account.password_same' });
    await changeOwnPassword(deps, password, session.idHash, ownChange(c, deps));
    return c.redirect(`${PASSWORD_PATH}?done=1`, 303);
  });

  return r;
}
