/**
 * Localized messages for the service (portal, admin pages, CLI, error answers): both parts of
 * every locale, bundled statically. The extension never imports this module: it loads only its
 * own part for its active locale (extension/table.ts).
 * `t(locale, id, params)` falls back to English for an id a catalog lacks (never throws) and
 * leaves unknown `{placeholders}` as they are.
 */
import type { Locale } from '../api/contract.ts';
import type { Catalog, MessageId } from './catalog.ts';
import { fillPlaceholders, type MessageParams } from './fill.ts';
import * as extension from './extension/index.ts';
import * as portal from './portal/index.ts';

export type { Catalog, MessageId };
export { LOCALES, pickLocale } from './locales.ts';

const en = { ...extension.en, ...portal.en };

const catalogs: Record<Locale, Catalog> = {
  en,
  sv: { ...extension.sv, ...portal.sv },
  nl: { ...extension.nl, ...portal.nl },
  ja: { ...extension.ja, ...portal.ja },
  da: { ...extension.da, ...portal.da },
};

export function catalogFor(locale: Locale): Catalog {
  return catalogs[locale];
}

export function t(locale: Locale, id: MessageId, params: MessageParams = {}): string {
  return fillPlaceholders(catalogs[locale]?.[id] ?? en[id], params);
}

/** Whether a computed id (e.g. `portal.audit.action.${action}`) names a message. */
export function isMessageId(id: string): id is MessageId {
  return Object.hasOwn(en, id);
}
