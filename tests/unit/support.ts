/** Helpers for the key-format tests: passwords built by the published BitLocker rule. */
import fc from 'fast-check';
import type { RandomBytes } from '../../lib/keys/index.ts';

/** A BitLocker recovery password (normalized, 48 digits) from eight 16-bit values. */
export function bitlockerFrom(values: number[]): string {
  return values.map((v) => String(v * 11).padStart(6, '0')).join('');
}

export function grouped(normalized: string, size: number): string {
  return normalized.match(new RegExp(`.{1,${size}}`, 'g'))?.join('-') ?? '';
}

/** Valid BitLocker passwords: each group is 11 × a 16-bit value. */
export const validBitLocker = fc
  .array(fc.integer({ min: 0, max: 65535 }), { minLength: 8, maxLength: 8 })
  .map(bitlockerFrom);

const FILEVAULT_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
export const validFileVault = fc
  .array(fc.constantFrom(...FILEVAULT_CHARS), { minLength: 24, maxLength: 24 })
  .map((chars) => chars.join(''));

/** A deterministic byte source for generator tests (xorshift32 from a seed). */
export function seededBytes(seed: number): RandomBytes {
  let state = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      out[i] = state & 0xff;
    }
    return out;
  };
}
