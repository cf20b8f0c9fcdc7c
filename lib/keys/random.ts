/**
 * Uniform random choices from a CSPRNG. The default source is the Web Crypto API
 * (`crypto.getRandomValues`), present in Node, browsers and service workers. Characters
 * are drawn by rejection sampling, so every symbol of an alphabet is equally likely.
 */
export type RandomBytes = (n: number) => Uint8Array;

export const webCryptoRandomBytes: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/** `count` characters, each uniform over `alphabet` (at most 256 symbols). */
export function randomString(alphabet: string, count: number, randomBytes: RandomBytes): string {
  const size = alphabet.length;
  const limit = 256 - (256 % size);
  let out = '';
  for (let round = 0; out.length < count; round++) {
    if (round === 64) throw new Error('The random source keeps returning unusable bytes.');
    for (const byte of randomBytes(count - out.length + 8)) {
      if (byte < limit) out += alphabet[byte % size];
      if (out.length === count) break;
    }
  }
  return out;
}

/** A uniform 16-bit value (0–65535). */
export function random16(randomBytes: RandomBytes): number {
  const [high, low] = randomBytes(2);
  return (high << 8) | low;
}
