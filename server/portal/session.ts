/**
 * Portal request state: the signed-in session (cookie), the page language (the user's
 * setting, else the language cookie, else Accept-Language), and CSRF tokens — the session's
 * own, or before sign-in a random token in an HttpOnly SameSite=Lax cookie.
 */
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import type { Locale, Role } from '../../lib/api/contract.ts';
import { LOCALES } from '../../lib/i18n/index.ts';
import { nowIso, type AppDeps } from '../deps.ts';
import { ApiFailure } from '../errors.ts';
import { loadSession, SESSION_COOKIE, type PortalSession } from '../auth/sessions.ts';
import { randomToken, safeEqual } from '../crypto/secrets.ts';
import type { UserActor } from '../services/access.ts';
import { clientIp, overHttps, requestLocale, type AppContext, type AppEnv } from '../http/context.ts';

const CSRF_COOKIE = 'kw_csrf';
export const LOCALE_COOKIE = 'kw_locale';

export function isLocale(value: string | undefined): value is Locale {
  return value !== undefined && (LOCALES as readonly string[]).includes(value);
}

export function portalSession(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = await loadSession(deps, getCookie(c, SESSION_COOKIE));
    c.set('session', session);
    const cookieLocale = getCookie(c, LOCALE_COOKIE);
    c.set('locale', session && isLocale(session.user.locale) ? session.user.locale : isLocale(cookieLocale) ? cookieLocale : requestLocale(c));
    await next();
  };
}

/** A change by the signed-in person (behind `requireSession`): who, from where, now — what services audit. */
export function changeBy(c: AppContext, deps: AppDeps): { actorId: string; ip: string; at: string } {
  return { actorId: c.get('signedIn').user.id, ip: clientIp(c), at: nowIso(deps) };
}

/** The same, for a person acting on their own account. */
export function ownChange(c: AppContext, deps: AppDeps): { userId: string; ip: string; at: string } {
  const { actorId, ip, at } = changeBy(c, deps);
  return { userId: actorId, ip, at };
}

/** The signed-in person as services/access.ts sees them. */
export function actorOf(session: PortalSession): UserActor {
  return { id: session.user.id, role: session.user.role as Role };
}

export function cookieOptions(c: AppContext, deps: AppDeps, maxAgeSeconds?: number) {
  const secure = deps.config.secureCookies || overHttps(c);
  return { httpOnly: true, sameSite: 'Lax' as const, path: '/', secure, ...(maxAgeSeconds ? { maxAge: maxAgeSeconds } : {}) };
}

/** The token this page's forms must carry. */
export function csrfTokenFor(c: AppContext, deps: AppDeps): string {
  const session = c.get('session');
  if (session) return session.csrf;
  let token = getCookie(c, CSRF_COOKIE);
  if (!token || token.length < 20) {
    token = randomToken(24);
    setCookie(c, CSRF_COOKIE, token, cookieOptions(c, deps));
  }
  return token;
}

export function assertCsrf(c: AppContext, form: Record<string, string>): void {
  const session = c.get('session');
  const expected = session ? session.csrf : getCookie(c, CSRF_COOKIE);
  const given = form._csrf ?? '';
  if (!expected || !given || !safeEqual(expected, given)) throw new ApiFailure(403, 'csrf_failed');
}

export function clearSessionCookie(c: AppContext): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/**
 * Only same-site relative paths are followed after sign-in (no open redirects). Control
 * characters and backslashes in the path are refused: browsers drop tabs and newlines from a
 * Location and read `\` there as `/`, so `/<tab>/evil.example` would leave the site.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || /[\u0000-\u001f\u007f]/.test(next)) return '/';
  if (next.split(/[?#]/)[0].includes('\\')) return '/';
  return next;
}

/** The portal's dates: the same per-locale format as the extension's. */
export { formatTime } from '../../lib/i18n/format.ts';
