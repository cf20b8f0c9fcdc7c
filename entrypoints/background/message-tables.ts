/**
 * Message tables for the portal content script, which cannot read the extension's files
 * itself: each locale's table is read once and kept while the background runs.
 */
import { browser } from 'wxt/browser';
import type { Locale } from '../../lib/api/contract.ts';
import { fetchMessageTable, type MessageTable } from '../../lib/i18n/extension/table.ts';
import { asLocale } from '../../lib/i18n/locales.ts';

const tables = new Map<Locale, Promise<MessageTable>>();

export function messageTableFor(requested: string): Promise<MessageTable> {
  const locale = asLocale(requested) ?? 'en';
  let table = tables.get(locale);
  if (!table) {
    table = fetchMessageTable(locale, browser.runtime.getURL('/'));
    // A failed read is not kept: the next panel asks again.
    table.catch(() => tables.delete(locale));
    tables.set(locale, table);
  }
  return table;
}
