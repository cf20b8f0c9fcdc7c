import { describe, expect, it } from 'vitest';
import { BITLOCKER_MAX_GROUP, describeKeyError, formatRecoveryKey, maskRecoveryKey, parseProtectorId, parseRecoveryKey } from '../../lib/keys/index.ts';
import { LOCALES } from '../../lib/i18n/index.ts';
import { bitlockerFrom, grouped } from './support.ts';

/** The illustrative password printed in the Danish BitLocker help page (seed 004). */
const SEED_004_SAMPLE = '393943-22222-281721-555554-577984-77777-194700-99999';

const VALID = bitlockerFrom([35813, 20202, 25611, 50505, 52544, 7070, 17700, 9090]);

describe('BitLocker recovery password (8 groups of 6 digits, each 11 × a 16-bit value)', () => {
  it.each([
    ['all zero', bitlockerFrom([0, 0, 0, 0, 0, 0, 0, 0])],
    ['every group at the maximum 720885', bitlockerFrom(Array(8).fill(65535))],
    ['mixed groups', VALID],
  ])('accepts a password built by the rule: %s', (_label, normalized) => {
    const display = grouped(normalized, 6);
    expect(parseRecoveryKey('bitlocker', display)).toEqual({ ok: true, normalized, display });
    expect(parseRecoveryKey('bitlocker', normalized)).toEqual({ ok: true, normalized, display });
    expect(parseRecoveryKey('bitlocker', ` ${display.replaceAll('-', ' ')} `)).toEqual({ ok: true, normalized, display });
  });

  it('720885 is the largest group value', () => {
    expect(BITLOCKER_MAX_GROUP).toBe(720885);
  });

  it('rejects the seed 004 sample and names its 5-digit groups 2, 6 and 8', () => {
    const parsed = parseRecoveryKey('bitlocker', SEED_004_SAMPLE);
    expect(parsed).toEqual({ ok: false, error: { code: 'group_length', group: 2, groups: [2, 6, 8], expected: 6, actual: 5 } });
    if (parsed.ok) return;
    expect(describeKeyError('en', 'bitlocker', parsed.error)).toBe('Groups 2, 6, and 8 do not have 6 digits each.');
    expect(describeKeyError('sv', 'bitlocker', parsed.error)).toBe('Grupperna 2, 6 och 8 har inte 6 siffror var.');
    expect(describeKeyError('nl', 'bitlocker', parsed.error)).toBe('De groepen 2, 6 en 8 hebben niet elk 6 cijfers.');
    expect(describeKeyError('ja', 'bitlocker', parsed.error)).toBe('グループ 2、6、8 が 6 桁になっていません。');
    expect(describeKeyError('da', 'bitlocker', parsed.error)).toBe('Grupperne 2, 6 og 8 har ikke 6 cifre hver.');
  });

  it.each([
    ['nothing', '   ', { code: 'empty' }],
    ['a letter O typed for a zero', `${grouped(VALID, 6).slice(0, 9)}O${grouped(VALID, 6).slice(10)}`, { code: 'bad_char', position: 10, char: 'O' }],
    ['47 digits', VALID.slice(0, 47), { code: 'length', expected: 48, actual: 47 }],
    ['seven full groups', grouped(VALID.slice(0, 42), 6), { code: 'group_count', expected: 8, actual: 7 }],
    ['group 3 not a multiple of 11', `${VALID.slice(0, 12)}000034${VALID.slice(18)}`, { code: 'group_not_multiple_of_11', group: 3, groups: [3] }],
    ['groups 1 and 8 not multiples of 11', `000001${VALID.slice(6, 42)}000002`, { code: 'group_not_multiple_of_11', group: 1, groups: [1, 8] }],
    ['group 5 = 11 × 65536, above 720885', bitlockerFrom([1, 2, 3, 4, 65536, 6, 7, 8]), { code: 'group_too_large', group: 5, groups: [5] }],
    ['group 2 = 999999 (11 × 90909), above 720885', `000000999999${VALID.slice(12)}`, { code: 'group_too_large', group: 2, groups: [2] }],
  ])('rejects %s', (_label, input, error) => {
    expect(parseRecoveryKey('bitlocker', input)).toEqual({ ok: false, error });
  });

  it('names the group that breaks the rule in every language, without quoting its digits', () => {
    const typo = `${VALID.slice(0, 18)}${(Number(VALID[18]) + 1) % 10}${VALID.slice(19)}`;
    const parsed = parseRecoveryKey('bitlocker', typo);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatchObject({ code: 'group_not_multiple_of_11', group: 4 });
    for (const locale of LOCALES) {
      const message = describeKeyError(locale, 'bitlocker', parsed.error);
      expect(message).toContain('4');
      expect(message).toContain('11');
      expect(message).not.toContain(typo.slice(18, 24));
    }
  });

  it('formats and masks the normalized password', () => {
    expect(formatRecoveryKey('bitlocker', VALID)).toBe(grouped(VALID, 6));
    expect(maskRecoveryKey('bitlocker', VALID)).toBe(`••••••-••••••-…-${VALID.slice(42)}`);
  });
});

describe('BitLocker protector ID (GUID)', () => {
  it.each([
    ['{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}', '{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}'],
    ['{8a5d13d6-7ed9-46c8-a74f-ac3adf016ec8}', '{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}'],
    ['  8a5d13d6-7ed9-46c8-a74f-ac3adf016ec8 ', '{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}'],
    ['8A5D13D67ED946C8A74FAC3ADF016EC8', '{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8}'],
  ])('normalizes %s', (input, expected) => {
    expect(parseProtectorId(input)).toBe(expected);
  });

  it.each([
    ['the redacted ID in seed 004', '{DFA26333-XXXX-402C-YYYY-A8C40AF3ZZZZ}'],
    ['an unbalanced brace', '{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC8'],
    ['one digit short', '{8A5D13D6-7ED9-46C8-A74F-AC3ADF016EC}'],
    ['empty', ''],
  ])('rejects %s', (_label, input) => {
    expect(parseProtectorId(input)).toBeNull();
  });
});
