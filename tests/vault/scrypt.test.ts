import { scryptSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scrypt, scryptBackend } from '../../utils/vault/scrypt.ts';
import { buildScryptWasm } from '../../utils/vault/scrypt-wasm/generate.ts';
import { SCRYPT_WASM_BASE64 } from '../../utils/vault/scrypt-wasm/module.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// RFC 7914 §12
const VECTORS = [
  { P: '', S: '', N: 16, r: 1, p: 1, dk: '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906' },
  { P: 'password', S: 'NaCl', N: 1024, r: 8, p: 16, dk: 'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640' },
  { P: 'pleaseletmein', S: 'SodiumChloride', N: 16384, r: 8, p: 1, dk: '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887' },
  { P: 'pleaseletmein', S: 'SodiumChloride', N: 1048576, r: 8, p: 1, dk: '2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa478e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4' },
];

describe('scrypt (WebAssembly core)', () => {
  it('runs on the WebAssembly core here, built from the committed generator', async () => {
    expect(await scryptBackend()).toBe('wasm');
    expect(SCRYPT_WASM_BASE64).toBe(Buffer.from(buildScryptWasm()).toString('base64'));
  });

  for (const v of VECTORS) {
    it(`matches RFC 7914 for N=${v.N} r=${v.r} p=${v.p}`, async () => {
      const dk = await scrypt(enc(v.P), enc(v.S), { N: v.N, r: v.r, p: v.p, dkLen: 64 });
      expect(hex(dk)).toBe(v.dk);
      // The N=2^20 vector takes about 20 s on one busy core of a 2-core machine.
    }, 120_000);
  }

  it('agrees with node:crypto.scrypt on random passwords, salts and parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 48 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 100 }),
        async (password, salt, logN, r, p, dkLen) => {
          const N = 2 ** logN;
          const ours = await scrypt(password, salt, { N, r, p, dkLen });
          const native = scryptSync(password, salt, dkLen, { N, r, p, maxmem: 2 ** 30 });
          expect(hex(ours)).toBe(native.toString('hex'));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports progress from 0 to 1 in order', async () => {
    const seen: number[] = [];
    await scrypt(enc('pw'), enc('salt'), { N: 2 ** 14, r: 8, p: 2, dkLen: 32 }, (f) => seen.push(f));
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(1);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((f, i) => i === 0 || f >= seen[i - 1])).toBe(true);
  });

  it('rejects parameters scrypt does not define', async () => {
    await expect(scrypt(enc('pw'), enc('s'), { N: 1000, r: 8, p: 1, dkLen: 32 })).rejects.toThrow(RangeError);
    await expect(scrypt(enc('pw'), enc('s'), { N: 1024, r: 0, p: 1, dkLen: 32 })).rejects.toThrow(RangeError);
  });
});
