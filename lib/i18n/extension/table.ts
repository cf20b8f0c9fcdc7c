/**
 * The extension's messages at run time: one locale's table, loaded on demand from the build's
 * `i18n/<locale>.json` (written from ./<locale>.ts by wxt.config.ts), so a context carries only
 * the language it shows. A table is checked to be a flat map of strings before use.
 */
import type { Locale } from '../../api/contract.ts';
import type { ExtensionMessageId } from './en.ts';
import { fillPlaceholders, type MessageParams } from '../fill.ts';

export type MessageTable = Partial<Record<ExtensionMessageId, string>>;

/** Where the build puts a locale's table, relative to the extension's root. */
export function messageTablePath(locale: string): `/i18n/${string}.json` {
  return `/i18n/${locale}.json`;
}

/** A loaded table, or null when `value` is not a flat object of strings. */
export function parseMessageTable(value: unknown): MessageTable | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value);
  if (!entries.every(([, text]) => typeof text === 'string')) return null;
  const table: Record<string, string> = Object.fromEntries(entries);
  return table;
}

/**
 * Reads a locale's table from the extension at `extensionRoot` (`runtime.getURL('/')`); the
 * tables are generated files, not among WXT's typed public paths.
 */
export async function fetchMessageTable(locale: Locale, extensionRoot: string): Promise<MessageTable> {
  const response = await fetch(new URL(messageTablePath(locale), extensionRoot));
  const table = parseMessageTable(await response.json());
  if (!table) throw new Error(`The ${locale} message table is malformed.`);
  return table;
}

/** A message from the table with its placeholders filled; the id itself if the table lacks it. */
export function lookUp(table: MessageTable, id: ExtensionMessageId, params: MessageParams = {}): string {
  return fillPlaceholders(table[id] ?? id, params);
}

export function hasMessage(table: MessageTable, id: string): id is ExtensionMessageId {
  return Object.hasOwn(table, id);
}
