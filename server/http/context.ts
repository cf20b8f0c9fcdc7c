/**
 * Per-request helpers shared by the routes: the Hono environment type, the caller's IP,
 * the Bearer token, and the locale for messages.
 */
import type { Context } from 'hono';
import type { Locale } from '../../lib/api/contract.ts';
import { pickLocale } from '../../lib/i18n/index.ts';
import type { PortalSession } from '../auth/sessions.ts';

export type AppEnv = {
  Variables: {
    locale: Locale;
    cspNonce: string;
    session: PortalSession | null;
    /** Extra `form-action` sources for this page (the OAuth consent page's redirect target). */
    formActionExtra: string;
  };
};

export type AppContext = Context<AppEnv>;

type NodeBindings = { incoming?: { socket?: { remoteAddress?: string } } };

export function clientIp(c: Context): string {
  const env = c.env as NodeBindings | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'in-process';
}

export function bearerToken(c: Context): string | null {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{10,500})$/i.exec(header.trim());
  return match ? match[1] : null;
}

export function requestLocale(c: Context, userLocale?: string): Locale {
  const fallback = userLocale && ['en', 'sv', 'nl', 'ja', 'da'].includes(userLocale) ? (userLocale as Locale) : 'en';
  return pickLocale(c.req.header('accept-language'), fallback);
}
