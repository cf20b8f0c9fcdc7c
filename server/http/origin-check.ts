/**
 * Refuses cross-site state-changing requests (POST, PUT, PATCH, DELETE) before any handler
 * runs — a second guard next to the CSRF tokens and SameSite cookies, as the OWASP CSRF
 * Prevention Cheat Sheet advises ("Fetch Metadata headers", "Verifying origin with standard
 * headers"). A browser says where a request comes from in `Sec-Fetch-Site` and `Origin`, and
 * a page cannot forge either:
 * - `Sec-Fetch-Site` other than `same-origin` or `none` (a typed address) → refused;
 * - an `Origin` whose host is not the one the browser addressed (`Host`, or a trusted proxy's
 *   `X-Forwarded-Host`) → refused. The scheme is not compared: behind a TLS-terminating proxy
 *   that is not configured as trusted the service sees http while the browser says https;
 *   HSTS keeps browsers on https;
 * - `Origin: null` passes only with `Sec-Fetch-Site: same-origin` (browsers send `null` for the
 *   portal's own forms under `Referrer-Policy: no-referrer`).
 * The extension calls `/api/*` and `/oauth/token` from its own origin with a Bearer token or a
 * PKCE verifier, so an extension origin passes there. Requests with neither header (the agent,
 * curl, other programs) pass, still guarded by their tokens.
 */
import type { MiddlewareHandler } from 'hono';
import { isJsonApiPath } from '../../lib/api/endpoints.ts';
import { ApiFailure } from '../errors.ts';
import type { AppContext, AppEnv } from './context.ts';
import { isExtensionOrigin } from './security.ts';

const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS']);

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function fromOwnSite(c: AppContext): boolean {
  const origin = c.req.header('origin');
  const site = c.req.header('sec-fetch-site')?.trim().toLowerCase();
  if (origin !== undefined && isJsonApiPath(c.req.path) && isExtensionOrigin(origin)) return true;
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  if (origin === undefined) return true;
  if (origin === 'null') return site === 'same-origin';
  const own = c.get('client').host.toLowerCase();
  return own !== '' && hostOf(origin) === own;
}

export function refuseCrossOrigin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!READ_ONLY.has(c.req.method) && !fromOwnSite(c)) throw new ApiFailure(403, 'cross_origin');
    await next();
  };
}
