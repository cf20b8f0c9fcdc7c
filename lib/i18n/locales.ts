/** The supported locales and the choice among them from a browser's languages; no messages. */
import type { Locale } from '../api/contract.ts';

export const LOCALES: readonly Locale[] = ['en', 'sv', 'nl', 'ja', 'da'];

/** Each language's own name for itself, as a language picker lists it. */
export const LANGUAGE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', sv: 'Svenska', nl: 'Nederlands', ja: '日本語', da: 'Dansk' };

/** The locale named exactly by `value`, if it is one we support. */
export function asLocale(value: string | null | undefined): Locale | null {
  return LOCALES.find((locale) => locale === value) ?? null;
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
    const locale = asLocale(tag.split('-')[0]);
    if (locale) return locale;
  }
  return fallback;
}
