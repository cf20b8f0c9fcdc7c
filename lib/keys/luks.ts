/**
 * LUKS passphrase. Policy for a passphrase a person stores: the exact bytes cryptsetup is
 * given — never trimmed or case-folded — at most 512 bytes of UTF-8 (cryptsetup's default
 * passphrase limit), no control characters or line breaks. Generated passphrases
 * (>= 128 bits of entropy) are printable lower-case groups, e.g. `k7mq4-2vbxe-…`:
 * 6 groups of 5 from 29 symbols without look-alikes (0/o, 1/i/l) or keys that move
 * between QWERTY and QWERTZ (y/z) — 145 bits, easy to type at a boot prompt.
 */
import type { ParsedKey } from './errors.ts';
import { randomString, type RandomBytes } from './random.ts';

export const LUKS_MAX_BYTES = 512;
export const LUKS_ALPHABET = '23456789abcdefghjkmnpqrstuvwx';
const GROUPS = 6;
const GROUP_SIZE = 5;
export const LUKS_GENERATED_ENTROPY_BITS = GROUPS * GROUP_SIZE * Math.log2(LUKS_ALPHABET.length);

const FORBIDDEN = /^[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]$/u;
const GENERATED = new RegExp(`^[${LUKS_ALPHABET}]{${GROUP_SIZE}}(-[${LUKS_ALPHABET}]{${GROUP_SIZE}}){${GROUPS - 1}}$`);

export function parseLuksPassphrase(input: string): ParsedKey {
  if (input.length === 0) return { ok: false, error: { code: 'empty' } };
  let position = 0;
  for (const char of input) {
    position += 1;
    if (FORBIDDEN.test(char)) return { ok: false, error: { code: 'bad_char', position, char } };
  }
  const bytes = new TextEncoder().encode(input).length;
  if (bytes > LUKS_MAX_BYTES) return { ok: false, error: { code: 'too_long', expected: LUKS_MAX_BYTES, actual: bytes } };
  return { ok: true, normalized: input, display: input };
}

/** Whether a passphrase has the shape of one this module generates. */
export function isGeneratedLuksPassphrase(passphrase: string): boolean {
  return GENERATED.test(passphrase);
}

export function generateLuksPassphrase(randomBytes: RandomBytes): string {
  const symbols = randomString(LUKS_ALPHABET, GROUPS * GROUP_SIZE, randomBytes);
  const groups: string[] = [];
  for (let i = 0; i < symbols.length; i += GROUP_SIZE) groups.push(symbols.slice(i, i + GROUP_SIZE));
  return groups.join('-');
}
