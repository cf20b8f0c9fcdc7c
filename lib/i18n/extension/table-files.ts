/** The build's message tables: each locale's extension catalog as `i18n/<locale>.json` (see table.ts). */
import type { Locale } from '../../api/contract.ts';
import type { ExtensionCatalog } from './en.ts';
import * as catalogs from './index.ts';
import { messageTablePath } from './table.ts';

const BY_LOCALE: Record<Locale, ExtensionCatalog> = catalogs;

export function messageTableFiles(): { relativeDest: string; contents: string }[] {
  return Object.entries(BY_LOCALE).map(([locale, catalog]) => ({
    relativeDest: messageTablePath(locale).slice(1),
    contents: JSON.stringify(catalog),
  }));
}
