import { describe, expect, it } from 'vitest';
import { describeKeyError, parseRecoveryKey, type KeyError } from '../../lib/keys/index.ts';
import type { KeyKind } from '../../lib/api/contract.ts';

function errorOf(kind: KeyKind, input: string): KeyError {
  const parsed = parseRecoveryKey(kind, input);
  if (parsed.ok) throw new Error('expected a rejection');
  return parsed.error;
}

describe('describeKeyError says precisely what is wrong', () => {
  it.each([
    ['filevault', '', 'Enter the FileVault recovery key.'],
    ['bitlocker', ' ', 'Enter the BitLocker recovery password.'],
    ['luks', '', 'Enter the LUKS passphrase.'],
    ['filevault', 'AU2A-PH#K-WBGX-PWKX-M3X3-VAPY', 'Character 8 (“#”) is not allowed. A FileVault recovery key has only the letters A–Z and the digits 0–9.'],
    ['bitlocker', '12345x', 'Character 6 (“x”) is not allowed. A BitLocker recovery password has only the digits 0–9.'],
    ['filevault', 'AU2A\u200bPHMK', 'Character 5 (U+200B) is not allowed. A FileVault recovery key has only the letters A–Z and the digits 0–9.'],
    ['luks', 'ab\ncd', 'Character 3 is a line break or another control character, which a passphrase cannot contain.'],
    ['filevault', 'AU2APHMK', 'A FileVault recovery key has 24 letters and digits; you entered 8.'],
    ['bitlocker', '000000000000', 'A BitLocker recovery password has 48 digits; you entered 12.'],
    ['bitlocker', '000000-000000-000000', 'A BitLocker recovery password has 8 groups of 6 digits; you entered 3 groups.'],
    ['filevault', 'AU2A-PHMK-WBGX-PWKX-M3X3-VAPYQ', 'Group 6 has 5 characters; each group has 4.'],
    ['bitlocker', '000000-000000-000000-000000-000000-000000-000000-0000000', 'Group 8 has 7 digits; each group has 6.'],
    ['bitlocker', '000001-000000-000000-000000-000000-000000-000000-000000', 'Group 1 is not a multiple of 11, so it has a typing error. Check that group.'],
    ['bitlocker', '000000-000000-000001-000000-000000-000000-000000-000010', 'Groups 3 and 8 are not multiples of 11, so they have typing errors. Check those groups.'],
    ['bitlocker', '000000-000000-000000-000000-000000-000000-720896-000000', 'Group 7 is larger than 720885, the largest value a group can have. Check that group.'],
    ['luks', 'x'.repeat(600), 'The passphrase is too long: 600 bytes, but at most 512 bytes are allowed.'],
  ] as const)('%s %j', (kind, input, message) => {
    expect(describeKeyError('en', kind, errorOf(kind, input))).toBe(message);
  });

  it('speaks the reader’s language', () => {
    const error = errorOf('bitlocker', '000000-000000-000001-000000-000000-000000-000000-000000');
    expect(describeKeyError('sv', 'bitlocker', error)).toBe('Grupp 3 är inte en multipel av 11, så den innehåller ett skrivfel. Kontrollera den gruppen.');
    expect(describeKeyError('ja', 'bitlocker', error)).toBe('グループ 3 が 11 の倍数ではないため、入力ミスがあります。このグループを確認してください。');
    expect(describeKeyError('nl', 'filevault', errorOf('filevault', 'AU2A'))).toBe('Een FileVault-herstelsleutel heeft 24 letters en cijfers; u hebt er 4 ingevoerd.');
    expect(describeKeyError('da', 'bitlocker', errorOf('bitlocker', '1a'))).toBe('Tegn 2 (“a”) er ikke tilladt. En BitLocker-genoprettelsesadgangskode består kun af cifrene 0–9.');
  });

  it('falls back to a general sentence for an error that does not fit the kind', () => {
    expect(describeKeyError('en', 'luks', { code: 'group_count', expected: 8, actual: 3 })).toBe('This is not a valid recovery key.');
  });
});
