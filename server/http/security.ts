/**
 * Security headers on every answer: a strict Content-Security-Policy (scripts and styles only
 * with this response's nonce), no framing, no sniffing, no referrer, no caching of anything
 * that might hold a key, HSTS on answers to requests that came over https (RFC 6797: never
 * over plain http, where an attacker could strip or fake it); and CORS only for the
 * extension's own origins on the JSON API.
 */
import { randomPool } from '../crypto/random-pool.ts';
import type { MiddlewareHandler } from 'hono';
import type { AppDeps } from '../deps.ts';
import { isAllowedChromiumExtension } from '../auth/oauth-clients.ts';
import { overHttps, type AppEnv } from './context.ts';

const nonceBytes = randomPool(16);

/** A fresh 16-byte CSP nonce, base64. */
function nextNonce(): string {
  return nonceBytes().toString('base64');
}

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const nonce = nextNonce();
    c.set('cspNonce', nonce);
    c.set('formActionExtra', '');
    await next();
    const extra = c.get('formActionExtra');
    c.res.headers.set(
      'Content-Security-Policy',
      [
        "default-src 'none'",
        `script-src 'nonce-${nonce}'`,
        `style-src 'nonce-${nonce}'`,
        "img-src 'self' data:",
        "connect-src 'self'",
        `form-action 'self'${extra ? ` ${extra}` : ''}`,
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ].join('; '),
    );
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('X-Frame-Options', 'DENY');
    c.res.headers.set('Referrer-Policy', 'no-referrer');
    c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    c.res.headers.set('Cross-Origin-Resource-Policy', 'same-origin');
    c.res.headers.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), clipboard-read=()');
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    if (overHttps(c)) c.res.headers.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  };
}

const CHROMIUM_ORIGIN = /^chrome-extension:\/\/([a-p]{32})$/;
const FIREFOX_ORIGIN = /^moz-extension:\/\/[a-z0-9-]{1,64}$/;

/** A browser extension's origin (Chrome/Edge or Firefox). */
export function isExtensionOrigin(origin: string): boolean {
  return CHROMIUM_ORIGIN.test(origin) || FIREFOX_ORIGIN.test(origin);
}

/**
 * Chrome/Edge: only the origins of allow-listed extension ids. Firefox: any moz-extension://
 * origin, because its UUID is random per install and cannot be listed; there the access token,
 * which only an allow-listed extension can obtain, is what protects the API.
 */
async function allowedOrigin(deps: AppDeps, origin: string | undefined): Promise<string | null> {
  if (origin === undefined) return null;
  if (FIREFOX_ORIGIN.test(origin)) return origin;
  const chromium = CHROMIUM_ORIGIN.exec(origin);
  return chromium !== null && (await isAllowedChromiumExtension(deps.db, chromium[1])) ? origin : null;
}

/** Lets the allow-listed extensions (and only they) call the JSON API with a Bearer token; no cookies. */
export function extensionCors(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = await allowedOrigin(deps, c.req.header('origin'));
    if (c.req.method === 'OPTIONS') {
      if (!origin) return c.body(null, 204);
      return c.body(null, 204, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept-Language',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      });
    }
    await next();
    if (origin) {
      c.res.headers.set('Access-Control-Allow-Origin', origin);
      c.res.headers.append('Vary', 'Origin');
    }
  };
}
