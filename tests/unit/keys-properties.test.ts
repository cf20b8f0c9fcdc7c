/** Properties of every key format, over generated inputs (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyKind } from '../../lib/api/contract.ts';
import { LOCALES } from '../../lib/i18n/index.ts';
import { describeKeyError, formatRecoveryKey, generateRecoveryKey, parseRecoveryKey } from '../../lib/keys/index.ts';
import { grouped, seededBytes, validBitLocker, validFileVault } from './support.ts';

const KINDS: KeyKind[] = ['filevault', 'bitlocker', 'luks'];
const RUNS = { numRuns: 300 };

/** Re-types a key the way people do: any case, any mix of spaces and dashes between groups. */
const retyped = (normalized: string, size: number) =>
  fc
    .tuple(fc.array(fc.constantFrom('-', ' ', '', ' - ', '  '), { minLength: 48, maxLength: 48 }), fc.boolean())
    .map(([separators, lower]) => {
      const groups = grouped(normalized, size).split('-');
      const text = groups.map((g, i) => g + (i < groups.length - 1 ? separators[i] : '')).join('');
      return lower ? text.toLowerCase() : text;
    });

const printablePassphrase = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  .filter((s) => !/[\p{Cc}\p{Zl}\p{Zp}]/u.test(s));

describe('key format properties', () => {
  it('FileVault: parse ∘ format returns the normalized key, however it is typed', () => {
    fc.assert(
      fc.property(validFileVault.chain((key) => fc.tuple(fc.constant(key), retyped(key, 4))), ([key, typed]) => {
        expect(parseRecoveryKey('filevault', formatRecoveryKey('filevault', key))).toMatchObject({ ok: true, normalized: key });
        expect(parseRecoveryKey('filevault', typed)).toEqual({ ok: true, normalized: key, display: formatRecoveryKey('filevault', key) });
      }),
      RUNS,
    );
  });

  it('BitLocker: parse ∘ format returns the normalized password, however it is typed', () => {
    fc.assert(
      fc.property(validBitLocker.chain((key) => fc.tuple(fc.constant(key), retyped(key, 6))), ([key, typed]) => {
        expect(parseRecoveryKey('bitlocker', formatRecoveryKey('bitlocker', key))).toMatchObject({ ok: true, normalized: key });
        expect(parseRecoveryKey('bitlocker', typed)).toMatchObject({ ok: true, normalized: key });
      }),
      RUNS,
    );
  });

  it('LUKS: parse ∘ format keeps any printable passphrase exactly', () => {
    fc.assert(
      fc.property(printablePassphrase, (passphrase) => {
        expect(parseRecoveryKey('luks', formatRecoveryKey('luks', passphrase))).toEqual({ ok: true, normalized: passphrase, display: passphrase });
      }),
      RUNS,
    );
  });

  it('BitLocker: every single-digit change is caught and names the changed group', () => {
    fc.assert(
      fc.property(validBitLocker, fc.nat(47), fc.integer({ min: 1, max: 9 }), (key, index, delta) => {
        const digit = String((Number(key[index]) + delta) % 10);
        const changed = key.slice(0, index) + digit + key.slice(index + 1);
        const parsed = parseRecoveryKey('bitlocker', grouped(changed, 6));
        // Changing one digit by d changes its group by ±d·10^k, never a multiple of 11.
        expect(parsed).toEqual({ ok: false, error: { code: 'group_not_multiple_of_11', group: Math.floor(index / 6) + 1, groups: [Math.floor(index / 6) + 1] } });
      }),
      { numRuns: 500 },
    );
  });

  it('points at the exact typed position of a stray character', () => {
    const stray = fc.constantFrom('_', '.', '/', '#', 'é', 'Ø', '😀', '€');
    fc.assert(
      fc.property(validBitLocker, stray, fc.nat(100), (key, char, at) => {
        const typed = Array.from(grouped(key, 6));
        const index = at % (typed.length + 1);
        typed.splice(index, 0, char);
        expect(parseRecoveryKey('bitlocker', typed.join(''))).toEqual({ ok: false, error: { code: 'bad_char', position: index + 1, char } });
      }),
      RUNS,
    );
  });

  it('random input never throws, and every error reads as a complete sentence in every language', () => {
    const input = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: fc.constantFrom(...'0123456789-  aZ'), maxLength: 70 }));
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), input, (kind, text) => {
        const parsed = parseRecoveryKey(kind, text);
        if (parsed.ok) return;
        for (const locale of LOCALES) {
          const message = describeKeyError(locale, kind, parsed.error);
          expect(message.length).toBeGreaterThan(5);
          expect(message).not.toMatch(/\{\w+\}/);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('generated keys are valid and in normalized form, for any random source', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.integer(), (kind, seed) => {
        const key = generateRecoveryKey(kind, seededBytes(seed));
        expect(parseRecoveryKey(kind, key)).toMatchObject({ ok: true, normalized: key });
      }),
      RUNS,
    );
  });

  it('generated BitLocker groups are 11 × a 16-bit value, taken from the random bytes', () => {
    expect(generateRecoveryKey('bitlocker', (n) => new Uint8Array(n).fill(0xff))).toBe('720885'.repeat(8));
    expect(generateRecoveryKey('bitlocker', (n) => new Uint8Array(n))).toBe('0'.repeat(48));
    expect(generateRecoveryKey('filevault', (n) => new Uint8Array(n))).toBe('0'.repeat(24));
  });

  it('refuses a random source that only returns unusable bytes instead of hanging', () => {
    expect(() => generateRecoveryKey('filevault', (n) => new Uint8Array(n).fill(0xff))).toThrow(/random source/);
  });

  it('the default generator does not repeat itself', () => {
    for (const kind of KINDS) {
      const keys = new Set(Array.from({ length: 100 }, () => generateRecoveryKey(kind)));
      expect(keys.size).toBe(100);
    }
  });
});
