/**
 * FileVault personal recovery key: 24 characters from [0-9A-Z], shown as 6 groups of 4
 * joined by "-" (the shape fdesetup prints, e.g. AU2A-PHMK-WBGX-PWKX-M3X3-VAPY).
 * Normalized form: the 24 characters, upper case, no dashes.
 */
import type { ParsedKey } from './errors.ts';
import { looseNormalize, readGroupedKey, splitIntoGroups, type GroupedFormat } from './grouped-input.ts';
import { randomString, type RandomBytes } from './random.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const FILEVAULT_FORMAT: GroupedFormat = {
  groupCount: 6,
  groupSize: 4,
  isAllowed: (char) => char.length === 1 && ALPHABET.includes(char),
};

export function formatFileVaultKey(normalized: string): string {
  return splitIntoGroups(looseNormalize(normalized), FILEVAULT_FORMAT.groupSize).join('-');
}

export function parseFileVaultKey(input: string): ParsedKey {
  const read = readGroupedKey(input, FILEVAULT_FORMAT);
  if (!read.ok) return read;
  return { ok: true, normalized: read.normalized, display: formatFileVaultKey(read.normalized) };
}

export function generateFileVaultKey(randomBytes: RandomBytes): string {
  return randomString(ALPHABET, FILEVAULT_FORMAT.groupCount * FILEVAULT_FORMAT.groupSize, randomBytes);
}
