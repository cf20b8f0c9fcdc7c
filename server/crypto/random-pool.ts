/**
 * Random bytes for values made on nearly every request (CSP nonces, row ids): the CSPRNG is
 * drawn from once per 256 values, as Node's `randomUUID` does, and each byte is used once.
 */
import { randomBytes } from 'node:crypto';

/** A source of `bytes` fresh random bytes per call. A returned buffer is never written again. */
export function randomPool(bytes: number, valuesPerDraw = 256): () => Buffer {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + bytes > pool.length) {
      pool = randomBytes(bytes * valuesPerDraw);
      offset = 0;
    }
    const value = pool.subarray(offset, offset + bytes);
    offset += bytes;
    return value;
  };
}
