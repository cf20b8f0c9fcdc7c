/**
 * Per-request helpers shared by the routes: the Hono environment type, the caller's address
 * and protocol (resolved once per request, trusted proxies considered: trusted-proxy.ts), the
 * Bearer token, and the locale for messages.
 */
import type { Context } from 'hono';
import type { Locale } from '../../lib/api/contract.ts';
import { asLocale, pickLocale } from '../../lib/i18n/locales.ts';
import type { PortalSession } from '../auth/sessions.ts';
import type { ApiUser, ResolvedClient } from './callers.ts';
import type { DeviceTable } from '../db/schema.ts';

export type AppEnv = {
  Variables: {
    locale: Locale;
    cspNonce: string;
    session: PortalSession | null;
    /** Extra `form-action` sources for this page (the OAuth consent page's redirect target). */
    formActionExtra: string;
    /** Set by `clientResolver` (trusted-proxy.ts) before anything else runs. */
    client: ResolvedClient;
    /** API routes: who is calling, set by their auth middleware (api-auth.ts) before the route runs. */
    apiUser: ApiUser;
    agentDevice: DeviceTable;
    /** Set by the portal's `requireSession` (portal/guards.ts) on the routes it guards. */
    signedIn: PortalSession;
    /** Set by the portal's `csrfForm` (portal/guards.ts): the posted form, its CSRF token checked. */
    form: Record<string, string>;
  };
};

export type AppContext = Context<AppEnv>;

/** The client's address: the socket's peer, or what a trusted proxy says it saw. */
export function clientIp(c: Context<AppEnv>): string {
  return c.get('client').ip;
}

/** Reached over https: directly, or through a trusted TLS-terminating proxy that says so. */
export function overHttps(c: Context<AppEnv>): boolean {
  return c.get('client').https;
}

export function bearerToken(c: Context): string | null {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{10,500})$/i.exec(header.trim());
  return match ? match[1] : null;
}

export function requestLocale(c: Context, userLocale?: string): Locale {
  return pickLocale(c.req.header('accept-language'), asLocale(userLocale) ?? 'en');
}
