/**
 * Which message explains a KeyError, with its parameters: which character, which groups, how
 * many digits were expected and found. Never quotes the key itself. Needs no catalog, so the
 * extension's panel and the service (describe-error.ts) share it.
 */
import type { KeyKind, Locale } from '../api/contract.ts';
import type { ExtensionMessageId } from '../i18n/extension/en.ts';
import type { KeyError } from './errors.ts';

type Params = Record<string, string | number>;

const listFormats = new Map<Locale, Intl.ListFormat>();

/** "2, 6 and 8" / "2, 6 och 8" / "2、6、8", in the reader's language. */
function listGroups(locale: Locale, groups: number[]): string {
  let format = listFormats.get(locale);
  if (!format) {
    format = new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' });
    listFormats.set(locale, format);
  }
  return format.format(groups.map(String));
}

/** A typed character as a person can read it: invisible ones by their code point. */
function showChar(char: string): string {
  if (/^[\p{L}\p{N}\p{P}\p{S}]$/u.test(char)) return `“${char}”`;
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function pick(error: KeyError, kind: KeyKind): { id: ExtensionMessageId; params: Params } | null {
  const group = error.group ?? 1;
  const groups = error.groups ?? [group];
  const many = groups.length > 1;
  const base: Params = { expected: error.expected ?? '', actual: error.actual ?? '', group, position: error.position ?? '' };
  const grouped = kind === 'filevault' || kind === 'bitlocker' ? kind : null;
  switch (error.code) {
    case 'empty':
      return { id: `key.empty.${kind}`, params: base };
    case 'bad_char':
      return { id: `key.bad_char.${kind}`, params: { ...base, char: showChar(error.char ?? '') } };
    case 'length':
      return grouped ? { id: `key.length.${grouped}`, params: base } : null;
    case 'too_long':
      return { id: 'key.too_long.luks', params: base };
    case 'group_count':
      return grouped ? { id: `key.group_count.${grouped}`, params: base } : null;
    case 'group_length':
      return grouped ? { id: `key.group_length.${many ? 'many' : 'one'}.${grouped}`, params: base } : null;
    case 'group_not_multiple_of_11':
      return { id: `key.group_not_multiple_of_11.${many ? 'many' : 'one'}`, params: base };
    case 'group_too_large':
      return { id: `key.group_too_large.${many ? 'many' : 'one'}`, params: base };
  }
}

export type KeyErrorMessage = { id: ExtensionMessageId; params: Params };

export function keyErrorMessage(locale: Locale, kind: KeyKind, error: KeyError): KeyErrorMessage {
  const chosen = pick(error, kind);
  if (!chosen) return { id: 'error.invalid_key', params: {} };
  return { id: chosen.id, params: { ...chosen.params, groups: listGroups(locale, error.groups ?? [error.group ?? 1]) } };
}
