/**
 * Emits the WebAssembly module behind `lib/vault/scrypt.ts`: scrypt's ROMix core (RFC 7914
 * §5–§6: Salsa20/8, BlockMix, ROMix) written with 128-bit SIMD, assembled here straight to
 * bytes so no toolchain is needed. Regenerate the committed module after editing this file:
 *
 *   node lib/vault/scrypt-wasm/generate.ts > lib/vault/scrypt-wasm/module.ts
 *
 * Data layout: every 64-byte Salsa block is kept "diagonal" (word i of the block sits in lane
 * position (i·5 mod 16)⁻¹, as in Colin Percival's SSE2 scrypt), so a Salsa20 double round is
 * eight vector steps plus six lane rotations. `scrypt.ts` permutes the input in and the output
 * out. Memory is imported: X at 0, Y at B, V at 2B (B = 128·r bytes, V = N blocks).
 *
 * Exports:
 *   fill(x, v, r, n, start, end)  — ROMix step 2: V[0] must hold X; V[i+1] = BlockMix(V[i]),
 *                                   the last step writes X.
 *   mix(x, y, v, r, n, start, end) — ROMix step 3: X = BlockMix(X xor V[Integerify(X) mod N]),
 *                                   ping-ponging between X and Y (N is even, so it ends in X).
 */

const I32 = 0x7f;
const V128 = 0x7b;

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

// Instructions (core MVP + SIMD, prefix 0xfd).
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
const load32 = (offset: number) => [0x28, 2, ...uleb(offset)];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const br = (d: number) => [0x0c, ...uleb(d)];
const brIf = (d: number) => [0x0d, ...uleb(d)];
const ifVoid = [0x04, 0x40];
const elseOp = [0x05];
const end = [0x0b];
const call = (f: number) => [0x10, ...uleb(f)];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const vload = (offset: number) => simd(0x00, 4, ...uleb(offset));
const vstore = (offset: number) => simd(0x0b, 4, ...uleb(offset));
const vxor = simd(0x51);
const vor = simd(0x50);
const vadd = simd(0xae);
const vshl = simd(0xab);
const vshrU = simd(0xad);
/** Rotate the four 32-bit lanes: result lane k = source lane lanes[k]. */
const lanes = (order: number[]) => simd(0x0d, ...order.flatMap((s) => [4 * s, 4 * s + 1, 4 * s + 2, 4 * s + 3]));
const SHUF_93 = lanes([3, 0, 1, 2]);
const SHUF_4E = lanes([2, 3, 0, 1]);
const SHUF_39 = lanes([1, 2, 3, 0]);

/** dst ^= rotl(a + b, k), with `t` as scratch. */
function step(dst: number, a: number, b: number, k: number, t: number): number[] {
  return [
    ...get(dst), ...get(a), ...get(b), ...vadd, ...tee(t), ...i32(k), ...vshl,
    ...get(t), ...i32(32 - k), ...vshrU, ...vor, ...vxor, ...set(dst),
  ];
}

function shuffle(x: number, order: number[]): number[] {
  return [...get(x), ...get(x), ...order, ...set(x)];
}

/** Salsa20/8 on the diagonal block in locals x0..x3 (s0..s3 hold the input for the final add). */
function salsa208(x: number[], s: number[], t: number): number[] {
  const [x0, x1, x2, x3] = x;
  const code: number[] = [];
  for (let i = 0; i < 4; i++) {
    code.push(
      ...step(x1, x0, x3, 7, t), ...step(x2, x1, x0, 9, t), ...step(x3, x2, x1, 13, t), ...step(x0, x3, x2, 18, t),
      ...shuffle(x1, SHUF_93), ...shuffle(x2, SHUF_4E), ...shuffle(x3, SHUF_39),
      ...step(x3, x0, x1, 7, t), ...step(x2, x3, x0, 9, t), ...step(x1, x2, x3, 13, t), ...step(x0, x1, x2, 18, t),
      ...shuffle(x1, SHUF_39), ...shuffle(x2, SHUF_4E), ...shuffle(x3, SHUF_93),
    );
  }
  for (let k = 0; k < 4; k++) code.push(...get(x[k]), ...get(s[k]), ...vadd, ...set(x[k]));
  return code;
}

/**
 * BlockMix(in [xor other]) → out. Params: in, other (ignored unless withXor), out, r.
 * Locals: 4 i = loop index, 5 end = 2r, 6 dst; v128 7..10 = X, 11..14 = saved X, 15 = temp.
 */
function blockMixBody(withXor: boolean): number[] {
  const [pin, pother, pout, pr, li, lend, ldst] = [0, 1, 2, 3, 4, 5, 6];
  const x = [7, 8, 9, 10];
  const s = [11, 12, 13, 14];
  const t = 15;
  const code: number[] = [];
  code.push(...get(pr), ...i32(1), ...[0x74] /* shl */, ...set(lend));
  // X = last block of in (xor other): address = base + (2r-1)·64
  for (let k = 0; k < 4; k++) {
    const lastAddr = (base: number) => [...get(base), ...get(lend), ...i32(1), ...sub, ...i32(64), ...mul, ...add];
    code.push(...lastAddr(pin), ...vload(16 * k));
    if (withXor) code.push(...lastAddr(pother), ...vload(16 * k), ...vxor);
    code.push(...set(x[k]));
  }
  code.push(...i32(0), ...set(li));
  code.push(...block, ...loop);
  // X ^= in[i] (^ other[i]); s = X
  for (let k = 0; k < 4; k++) {
    const at = (base: number) => [...get(base), ...get(li), ...i32(64), ...mul, ...add];
    code.push(...get(x[k]), ...at(pin), ...vload(16 * k), ...vxor);
    if (withXor) code.push(...at(pother), ...vload(16 * k), ...vxor);
    code.push(...tee(x[k]), ...set(s[k]));
  }
  code.push(...salsa208(x, s, t));
  // dst = out + (i even ? i/2 : r + i/2)·64  ==  out + ((i>>1) + (i&1)·r)·64
  code.push(
    ...get(pout), ...get(li), ...i32(1), ...[0x76] /* shr_u */, ...get(li), ...i32(1), ...and, ...get(pr), ...mul, ...add,
    ...i32(64), ...mul, ...add, ...set(ldst),
  );
  for (let k = 0; k < 4; k++) code.push(...get(ldst), ...get(x[k]), ...vstore(16 * k));
  code.push(...get(li), ...i32(1), ...add, ...tee(li), ...get(lend), ...ltU, ...brIf(0), ...end, ...end);
  return code;
}

/** fill(x, v, r, n, start, end). Locals: 6 i, 7 B, 8 out. Calls blockmix (func 0). */
function fillBody(): number[] {
  const [px, pv, pr, pn, pstart, pend, li, lb, lout] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return [
    ...get(pr), ...i32(128), ...mul, ...set(lb),
    ...get(pstart), ...set(li),
    ...block, ...get(li), ...get(pend), ...ltU, ...[0x45] /* eqz */, ...brIf(0), ...loop,
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
    ...block, ...get(li), ...get(pend), ...ltU, ...[0x45], ...brIf(0), ...loop,
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
  const blockLocals: [number, number][] = [[3, I32], [9, V128]];
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
    `/** Generated by \`node lib/vault/scrypt-wasm/generate.ts > lib/vault/scrypt-wasm/module.ts\`; do not edit. */\n` +
      `export const SCRYPT_WASM_BASE64 =\n  '${base64}';\n`,
  );
}
