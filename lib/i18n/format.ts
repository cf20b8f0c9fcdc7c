/**
 * Dates and durations in the reader's language (ECMA-402 `Intl`): one date format per locale,
 * shared by the portal and the extension, so a time reads the same in both.
 */
import type { Locale } from '../api/contract.ts';

const dateFormats = new Map<Locale, Intl.DateTimeFormat>();

/** "22 Nov 2026, 13:05" (en), "22 nov. 2026 13:05" (sv)… or null when there is no time. */
export function formatTime(locale: Locale, iso: string | null): string | null {
  if (!iso) return null;
  let format = dateFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    dateFormats.set(locale, format);
  }
  return format.format(new Date(iso));
}

/** "45 seconds", "3 minutes", "1 hour" in the reader's language, rounded up. */
export function formatWait(locale: Locale, ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  const [value, unit] = seconds < 60 ? [seconds, 'second'] : seconds < 3600 ? [Math.ceil(seconds / 60), 'minute'] : [Math.ceil(seconds / 3600), 'hour'];
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

/** A countdown as "m:ss" ("5:00", "0:09"), the same in every language. */
export function formatMinutesSeconds(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
