/**
 * Localized messages for the portal, the extension and the service's error answers.
 * Every catalog is bundled statically. `t(locale, id, params)` falls back to English for an
 * id a catalog lacks (never throws) and leaves unknown `{placeholders}` as they are.
 */
import type { Locale } from '../api/contract.ts';
import type { Catalog } from './catalog.ts';
import { da } from './da.ts';
import { en, type MessageId } from './en.ts';
import { ja } from './ja.ts';
import { nl } from './nl.ts';
import { sv } from './sv.ts';

export type { Catalog, MessageId };

const catalogs: Record<Locale, Catalog> = { en, sv, nl, ja, da };

export const LOCALES: readonly Locale[] = ['en', 'sv', 'nl', 'ja', 'da'];

export function catalogFor(locale: Locale): Catalog {
  return catalogs[locale];
}

export function t(locale: Locale, id: MessageId, params: Record<string, string | number> = {}): string {
  const template = catalogs[locale]?.[id] ?? en[id];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Whether a computed id (e.g. `portal.audit.action.${action}`) names a message. */
export function isMessageId(id: string): id is MessageId {
  return Object.hasOwn(en, id);
}

/** Picks the best supported locale from an Accept-Language header or a BCP 47 tag list. */
export function pickLocale(accept: string | null | undefined, fallback: Locale = 'en'): Locale {
  if (!accept) return fallback;
  const wanted = accept
    .split(',')
    .map((part) => {
      const [tag, ...rest] = part.trim().split(';');
      const q = rest.find((p) => p.trim().startsWith('q='));
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q.trim().slice(2)) || 0 : 1 };
    })
    .filter(({ q }) => q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of wanted) {
    const base = tag.split('-')[0];
    if ((LOCALES as readonly string[]).includes(base)) return base as Locale;
  }
  return fallback;
}
