/**
 * Reads a key typed as groups (FileVault, BitLocker). Ignores case, spaces and dashes —
 * including the full-width forms and the long vowel mark East Asian input methods produce —
 * and reports the first problem precisely: empty input, a bad character at its position
 * as typed, groups of the wrong size, the wrong number of groups, or the wrong length.
 * The digits or letters themselves are never part of an error.
 */
import type { KeyError } from './errors.ts';

export type GroupedFormat = {
  groupCount: number;
  groupSize: number;
  /** Whether one normalized (ASCII, upper case) character may appear in the key. */
  isAllowed: (char: string) => boolean;
};

export type GroupedRead = { ok: true; normalized: string } | { ok: false; error: KeyError };

const SEPARATOR = /^[\s\-\u2010-\u2015\u2212\u30fc\uff0d]$/u;

/** Full-width digits and Latin letters become ASCII; Latin letters become upper case. */
function toAsciiUpper(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const ascii = code >= 0xff10 && code <= 0xff5a ? String.fromCodePoint(code - 0xfee0) : char;
  return /^[a-z]$/.test(ascii) ? ascii.toUpperCase() : ascii;
}

/** Strips separators and upper-cases, without judging the result. */
export function looseNormalize(input: string): string {
  let out = '';
  for (const char of input) if (!SEPARATOR.test(char)) out += toAsciiUpper(char);
  return out;
}

export function splitIntoGroups(normalized: string, groupSize: number): string[] {
  const groups: string[] = [];
  for (let i = 0; i < normalized.length; i += groupSize) groups.push(normalized.slice(i, i + groupSize));
  return groups;
}

export function readGroupedKey(input: string, format: GroupedFormat): GroupedRead {
  const typedGroups: string[] = [];
  let current = '';
  let position = 0;
  for (const typed of input) {
    position += 1;
    if (SEPARATOR.test(typed)) {
      if (current) typedGroups.push(current);
      current = '';
      continue;
    }
    const char = toAsciiUpper(typed);
    if (!format.isAllowed(char)) return { ok: false, error: { code: 'bad_char', position, char: typed } };
    current += char;
  }
  if (current) typedGroups.push(current);

  const normalized = typedGroups.join('');
  const expectedLength = format.groupCount * format.groupSize;
  if (normalized.length === 0) return { ok: false, error: { code: 'empty' } };
  if (normalized.length === expectedLength) return { ok: true, normalized };

  if (typedGroups.length === format.groupCount) {
    const groups = typedGroups.flatMap((g, i) => (g.length === format.groupSize ? [] : [i + 1]));
    const group = groups[0];
    return {
      ok: false,
      error: { code: 'group_length', group, groups, expected: format.groupSize, actual: typedGroups[group - 1].length },
    };
  }
  if (typedGroups.length > 1 && typedGroups.every((g) => g.length === format.groupSize)) {
    return { ok: false, error: { code: 'group_count', expected: format.groupCount, actual: typedGroups.length } };
  }
  return { ok: false, error: { code: 'length', expected: expectedLength, actual: normalized.length } };
}
