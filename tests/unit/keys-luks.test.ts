import { describe, expect, it, vi } from 'vitest';
import {
  generateRecoveryKey, isGeneratedLuksPassphrase, LUKS_GENERATED_ENTROPY_BITS, maskRecoveryKey, parseRecoveryKey,
} from '../../lib/keys/index.ts';
import { seededBytes } from './support.ts';

describe('LUKS passphrase', () => {
  it('keeps the exact passphrase cryptsetup is given: no trimming, no case folding', () => {
    for (const input of [' Correct Horse ', 'ÅÄÖ-ünïcödé-密码', 'a', 'x'.repeat(512)]) {
      expect(parseRecoveryKey('luks', input)).toEqual({ ok: true, normalized: input, display: input });
    }
  });

  it.each([
    ['nothing', '', { code: 'empty' }],
    ['a line break, at its position', 'abc\ndef', { code: 'bad_char', position: 4, char: '\n' }],
    ['a tab after an emoji', '😀\tx', { code: 'bad_char', position: 2, char: '\t' }],
    ['513 bytes', 'x'.repeat(513), { code: 'too_long', expected: 512, actual: 513 }],
    ['300 two-byte letters (600 bytes)', 'ö'.repeat(300), { code: 'too_long', expected: 512, actual: 600 }],
  ])('rejects %s', (_label, input, error) => {
    expect(parseRecoveryKey('luks', input)).toEqual({ ok: false, error });
  });

  it('generates printable lower-case grouped passphrases with at least 128 bits of entropy', () => {
    expect(LUKS_GENERATED_ENTROPY_BITS).toBeGreaterThanOrEqual(128);
    const passphrase = generateRecoveryKey('luks', seededBytes(7));
    expect(passphrase).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){5}$/);
    expect(passphrase).not.toMatch(/[01ilo yz]/);
    expect(isGeneratedLuksPassphrase(passphrase)).toBe(true);
    expect(parseRecoveryKey('luks', passphrase)).toEqual({ ok: true, normalized: passphrase, display: passphrase });
  });

  it('uses crypto.getRandomValues by default and never repeats', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const seen = new Set(Array.from({ length: 200 }, () => generateRecoveryKey('luks')));
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    expect(seen.size).toBe(200);
  });

  it('masks a generated passphrase to its last group and hides a typed one entirely', () => {
    const passphrase = generateRecoveryKey('luks', seededBytes(3));
    expect(maskRecoveryKey('luks', passphrase)).toBe(`•••••-•••••-…-${passphrase.slice(-5)}`);
    expect(maskRecoveryKey('luks', 'hunter2')).toBe('••••••••••');
    expect(maskRecoveryKey('luks', 'a much longer typed passphrase')).toBe('••••••••••');
  });
});
