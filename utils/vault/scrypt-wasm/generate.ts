/**
 * Emits the WebAssembly module behind `utils/vault/scrypt.ts`: scrypt's ROMix core (RFC 7914
 * §3 Salsa20/8, §4 BlockMix, §5 ROMix), assembled here straight to bytes so no toolchain is
 * needed. Salsa20/8 is scalar on 16 i32 locals with `i32.rotl` and the four quarter-rounds of
 * each half-round interleaved (this beats a 128-bit SIMD version, whose steps are one long
 * dependency chain). Regenerate the committed module after editing this file:
 *
 *   node utils/vault/scrypt-wasm/generate.ts > utils/vault/scrypt-wasm/module.ts
 *
 * Memory is imported (little-endian words, as RFC 7914 specifies): X at 0, Y at B, V at 2B
 * (B = 128·r bytes, V = N blocks).
 *
 * Exports:
 *   fill(x, v, r, n, start, end)  — ROMix step 2: V[0] must hold X; V[i+1] = BlockMix(V[i]),
 *                                   the last step writes X.
 *   mix(x, y, v, r, n, start, end) — ROMix step 3: X = BlockMix(X xor V[Integerify(X) mod N]),
 *                                   ping-ponging between X and Y (N is even, so it ends in X).
 */

const I32 = 0x7f;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Instructions (WebAssembly 1.0 core).
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32 = (n: number) => [0x41, ...sleb(n)];
const add = [0x6a];
const sub = [0x6b];
const mul = [0x6c];
const and = [0x71];
const ltU = [0x49];
const eq = [0x46];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const brIf = (d: number) => [0x0d, ...uleb(d)];
const ifVoid = [0x04, 0x40];
const elseOp = [0x05];
const end = [0x0b];
const call = (f: number) => [0x10, ...uleb(f)];
const load32 = (offset: number) => [0x28, 2, ...uleb(offset)];
const store32 = (offset: number) => [0x36, 2, ...uleb(offset)];
const xor = [0x73];
const shl = [0x74];
const shrU = [0x76];
const rotl = [0x77];
const eqz = [0x45];

/** Salsa20 quarter-round word indices (a, b, c, d): columns, then rows (RFC 7914 §3). */
const COLUMNS = [[0, 4, 8, 12], [5, 9, 13, 1], [10, 14, 2, 6], [15, 3, 7, 11]];
const ROWS = [[0, 1, 2, 3], [5, 6, 7, 4], [10, 11, 8, 9], [15, 12, 13, 14]];

/** Salsa20/8 on words in locals x(0..15); `dst` (a local) points at the input saved in memory. */
function salsa208(x: (k: number) => number, dst: number): number[] {
  const step = (d: number, a: number, b: number, k: number) =>
    [...get(x(d)), ...get(x(a)), ...get(x(b)), ...add, ...i32(k), ...rotl, ...xor, ...set(x(d))];
  const code: number[] = [];
  for (let round = 0; round < 4; round++) {
    for (const quarters of [COLUMNS, ROWS]) {
      for (const [a, b, , d] of quarters) code.push(...step(b, a, d, 7));
      for (const [a, b, c] of quarters) code.push(...step(c, b, a, 9));
      for (const [, b, c, d] of quarters) code.push(...step(d, c, b, 13));
      for (const [a, , c, d] of quarters) code.push(...step(a, d, c, 18));
    }
  }
  for (let k = 0; k < 16; k++) code.push(...get(dst), ...get(x(k)), ...get(dst), ...load32(4 * k), ...add, ...tee(x(k)), ...store32(4 * k));
  return code;
}

/**
 * BlockMix(in [xor other]) → out (RFC 7914 §4). Params: 0 in, 1 other (unused unless withXor),
 * 2 out, 3 r. Locals: 4 i, 5 end = 2r, 6 dst, 7 src, 8 src2, 9..24 the Salsa state x0..x15.
 */
function blockMixBody(withXor: boolean): number[] {
  const [pin, pother, pout, pr, li, lend, ldst, lsrc, lsrc2] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const x = (k: number) => 9 + k;
  const code: number[] = [...get(pr), ...i32(1), ...shl, ...set(lend)];
  const blockAt = (base: number, index: number[]) => [...get(base), ...index, ...i32(64), ...mul, ...add];
  // X = last 64-byte block of in (xor other)
  code.push(...blockAt(pin, [...get(lend), ...i32(1), ...sub]), ...set(lsrc));
  if (withXor) code.push(...blockAt(pother, [...get(lend), ...i32(1), ...sub]), ...set(lsrc2));
  for (let k = 0; k < 16; k++) {
    code.push(...get(lsrc), ...load32(4 * k));
    if (withXor) code.push(...get(lsrc2), ...load32(4 * k), ...xor);
    code.push(...set(x(k)));
  }
  code.push(...i32(0), ...set(li), ...block, ...loop);
  // Y_i goes to out + ((i >> 1) + (i & 1)·r)·64: even blocks first, then odd ones
  code.push(
    ...get(pout), ...get(li), ...i32(1), ...shrU, ...get(li), ...i32(1), ...and, ...get(pr), ...mul, ...add,
    ...i32(64), ...mul, ...add, ...set(ldst),
  );
  code.push(...blockAt(pin, get(li)), ...set(lsrc));
  if (withXor) code.push(...blockAt(pother, get(li)), ...set(lsrc2));
  // X ^= in_i (^ other_i), saved at dst for Salsa's final addition
  for (let k = 0; k < 16; k++) {
    code.push(...get(ldst), ...get(x(k)), ...get(lsrc), ...load32(4 * k), ...xor);
    if (withXor) code.push(...get(lsrc2), ...load32(4 * k), ...xor);
    code.push(...tee(x(k)), ...store32(4 * k));
  }
  code.push(...salsa208(x, ldst));
  code.push(...get(li), ...i32(1), ...add, ...tee(li), ...get(lend), ...ltU, ...brIf(0), ...end, ...end);
  return code;
}

/** fill(x, v, r, n, start, end). Locals: 6 i, 7 B, 8 out. Calls blockmix (func 0). */
function fillBody(): number[] {
  const [px, pv, pr, pn, pstart, pend, li, lb, lout] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return [
    ...get(pr), ...i32(128), ...mul, ...set(lb),
    ...get(pstart), ...set(li),
    ...block, ...get(li), ...get(pend), ...ltU, ...eqz, ...brIf(0), ...loop,
    // out = i == n-1 ? x : v + (i+1)·B
    ...get(li), ...get(pn), ...i32(1), ...sub, ...eq,
    ...ifVoid, ...get(px), ...set(lout), ...elseOp,
    ...get(pv), ...get(li), ...i32(1), ...add, ...get(lb), ...mul, ...add, ...set(lout), ...end,
    ...get(pv), ...get(li), ...get(lb), ...mul, ...add, ...i32(0), ...get(lout), ...get(pr), ...call(0),
    ...get(li), ...i32(1), ...add, ...tee(li), ...get(pend), ...ltU, ...brIf(0), ...end, ...end,
  ];
}

/** mix(x, y, v, r, n, start, end). Locals: 7 i, 8 B, 9 in, 10 out. Calls blockmixXor (func 1). */
function mixBody(): number[] {
  const [px, py, pv, pr, pn, pstart, pend, li, lb, lin, lout] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  return [
    ...get(pr), ...i32(128), ...mul, ...set(lb),
    ...get(pstart), ...set(li),
    ...block, ...get(li), ...get(pend), ...ltU, ...eqz, ...brIf(0), ...loop,
    ...get(li), ...i32(1), ...and,
    ...ifVoid, ...get(py), ...set(lin), ...get(px), ...set(lout),
    ...elseOp, ...get(px), ...set(lin), ...get(py), ...set(lout), ...end,
    // j = first word of the last 64-byte block, mod n (n is a power of two)
    ...get(lin),
    ...get(pv), ...get(lin), ...get(lb), ...i32(64), ...sub, ...add, ...load32(0), ...get(pn), ...i32(1), ...sub, ...and,
    ...get(lb), ...mul, ...add,
    ...get(lout), ...get(pr), ...call(1),
    ...get(li), ...i32(1), ...add, ...tee(li), ...get(pend), ...ltU, ...brIf(0), ...end, ...end,
  ];
}

function code(locals: [number, number][], body: number[]): number[] {
  const fn = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...body, ...end];
  return [...uleb(fn.length), ...fn];
}

export function buildScryptWasm(): Uint8Array {
  const types = [
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])], // blockmix(in, other, out, r)
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])], // fill
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])], // mix
  ];
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]];
  const functions = [[0], [0], [1], [2]];
  const exports = [
    [...name('fill'), 0x00, ...uleb(2)],
    [...name('mix'), 0x00, ...uleb(3)],
  ];
  const blockLocals: [number, number][] = [[21, I32]];
  const codes = [
    code(blockLocals, blockMixBody(false)),
    code(blockLocals, blockMixBody(true)),
    code([[3, I32]], fillBody()),
    code([[4, I32]], mixBody()),
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(functions.map((f) => uleb(f[0])))),
    ...section(7, vec(exports)),
    ...section(10, vec(codes)),
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const base64 = Buffer.from(buildScryptWasm()).toString('base64');
  process.stdout.write(
    `/** Generated by \`node utils/vault/scrypt-wasm/generate.ts > utils/vault/scrypt-wasm/module.ts\`; do not edit. */\n` +
      `export const SCRYPT_WASM_BASE64 =\n  '${base64}';\n`,
  );
}
