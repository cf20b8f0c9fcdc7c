import { describe, expect, it } from 'vitest';
import { formatRecoveryKey, maskRecoveryKey, parseRecoveryKey } from '../../lib/keys/index.ts';

const SAMPLE = 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPY';
const NORMALIZED = 'AU2APHMKWBGXPWKXM3X3VAPY';

describe('FileVault personal recovery key (24 of [0-9A-Z], 6 groups of 4)', () => {
  it.each([
    ['grouped, as fdesetup prints it', SAMPLE],
    ['lower case', SAMPLE.toLowerCase()],
    ['spaces instead of dashes', 'AU2A PHMK WBGX PWKX M3X3 VAPY'],
    ['no separators', NORMALIZED],
    ['separators in odd places and around', '  au2aph-mkwbgx pwkxm3x3vapy - '],
    ['full-width characters from an input method', 'ＡＵ２Ａ－ＰＨＭＫ－ＷＢＧＸ－ＰＷＫＸ－Ｍ３Ｘ３－ＶＡＰＹ'],
  ])('accepts %s', (_label, input) => {
    expect(parseRecoveryKey('filevault', input)).toEqual({ ok: true, normalized: NORMALIZED, display: SAMPLE });
  });

  it.each([
    ['nothing', '', { code: 'empty' }],
    ['only separators', ' - -  ', { code: 'empty' }],
    ['a character outside [0-9A-Z], at its typed position', 'AU2A-PHMK-WB_X-PWKX-M3X3-VAPY', { code: 'bad_char', position: 13, char: '_' }],
    ['an accented letter', 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPé', { code: 'bad_char', position: 29, char: 'é' }],
    ['an emoji counted as one character', 'AU😀A-PHMK-WBGX-PWKX-M3X3-VAPY', { code: 'bad_char', position: 3, char: '😀' }],
    ['one character short, no dashes', NORMALIZED.slice(1), { code: 'length', expected: 24, actual: 23 }],
    ['one character too many, no dashes', `${NORMALIZED}Q`, { code: 'length', expected: 24, actual: 25 }],
    ['a short last group', 'AU2A-PHMK-WBGX-PWKX-M3X3-VAP', { code: 'group_length', group: 6, groups: [6], expected: 4, actual: 3 }],
    ['a missing group', 'AU2A-PHMK-WBGX-PWKX-M3X3', { code: 'group_count', expected: 6, actual: 5 }],
    ['an extra group', `${SAMPLE}-AAAA`, { code: 'group_count', expected: 6, actual: 7 }],
  ])('rejects %s', (_label, input, error) => {
    expect(parseRecoveryKey('filevault', input)).toEqual({ ok: false, error });
  });

  it('formats and masks the normalized key, showing only the last group', () => {
    expect(formatRecoveryKey('filevault', NORMALIZED)).toBe(SAMPLE);
    expect(maskRecoveryKey('filevault', NORMALIZED)).toBe('••••-••••-…-VAPY');
  });
});
