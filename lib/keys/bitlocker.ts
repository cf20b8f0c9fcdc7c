/**
 * BitLocker recovery password: 48 digits in 8 groups of 6. Each group is 11 × a 16-bit
 * value, so it is divisible by 11 and at most 720885 (65535 × 11) — the rule BitLocker
 * uses to catch typing errors group by group. Normalized form: the 48 digits, no dashes.
 */
import type { KeyError, ParsedKey } from './errors.ts';
import { looseNormalize, readGroupedKey, splitIntoGroups, type GroupedFormat } from './grouped-input.ts';
import { random16, type RandomBytes } from './random.ts';

export const BITLOCKER_MAX_GROUP = 65535 * 11;
export const BITLOCKER_FORMAT: GroupedFormat = {
  groupCount: 8,
  groupSize: 6,
  isAllowed: (char) => char >= '0' && char <= '9' && char.length === 1,
};

function groupProblem(group: string): 'group_not_multiple_of_11' | 'group_too_large' | null {
  const value = Number(group);
  if (value % 11 !== 0) return 'group_not_multiple_of_11';
  if (value > BITLOCKER_MAX_GROUP) return 'group_too_large';
  return null;
}

/** The first group that breaks the rule, with every group that breaks it the same way. */
function checkGroups(groups: string[]): KeyError | null {
  const problems = groups.map(groupProblem);
  const first = problems.findIndex((p) => p !== null);
  if (first === -1) return null;
  const code = problems[first];
  if (code === null) return null;
  const failing = problems.flatMap((p, i) => (p === code ? [i + 1] : []));
  return { code, group: first + 1, groups: failing };
}

export function formatBitLockerPassword(normalized: string): string {
  return splitIntoGroups(looseNormalize(normalized), BITLOCKER_FORMAT.groupSize).join('-');
}

export function parseBitLockerPassword(input: string): ParsedKey {
  const read = readGroupedKey(input, BITLOCKER_FORMAT);
  if (!read.ok) return read;
  const error = checkGroups(splitIntoGroups(read.normalized, BITLOCKER_FORMAT.groupSize));
  if (error) return { ok: false, error };
  return { ok: true, normalized: read.normalized, display: formatBitLockerPassword(read.normalized) };
}

export function generateBitLockerPassword(randomBytes: RandomBytes): string {
  let out = '';
  for (let i = 0; i < BITLOCKER_FORMAT.groupCount; i++) out += String(random16(randomBytes) * 11).padStart(6, '0');
  return out;
}
