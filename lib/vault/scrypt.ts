/**
 * scrypt (RFC 7914), async with progress. PBKDF2-HMAC-SHA256 (one iteration, RFC 8018) comes
 * from @noble/hashes; ROMix runs in the SIMD WebAssembly module built by
 * `scrypt-wasm/generate.ts`, in chunks so the caller's event loop keeps turning and progress
 * can be shown. Where WebAssembly is unavailable (e.g. a CSP without 'wasm-unsafe-eval') it
 * falls back to @noble/hashes `scryptAsync`, which gives the same bytes, only slower.
 * The scratch memory holding password-derived intermediates (X, Y, V[0]) is zeroed after use.
 */
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { SCRYPT_WASM_BASE64 } from './scrypt-wasm/module.ts';

export type ScryptParams = { N: number; r: number; p: number; dkLen: number };
export type Progress = (fraction: number) => void;
export type ScryptBackend = 'wasm-simd' | 'noble-js';

type RomixExports = {
  fill: (x: number, v: number, r: number, n: number, start: number, end: number) => void;
  mix: (x: number, y: number, v: number, r: number, n: number, start: number, end: number) => void;
};

const WASM_PAGE = 65536;
/** ROMix iterations between two yields to the event loop (about 10–20 ms of work at r = 8). */
const CHUNK_BYTES = 8 * 1024 * 1024;

let modulePromise: Promise<WebAssembly.Module | null> | undefined;

function loadModule(): Promise<WebAssembly.Module | null> {
  modulePromise ??= (async () => {
    try {
      if (typeof WebAssembly === 'undefined') return null;
      return await WebAssembly.compile(base64ToBytes(SCRYPT_WASM_BASE64));
    } catch {
      return null;
    }
  })();
  return modulePromise;
}

/** Which implementation `scrypt` will use here (for benchmarks and diagnostics). */
export async function scryptBackend(): Promise<ScryptBackend> {
  return (await loadModule()) ? 'wasm-simd' : 'noble-js';
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function validateScryptParams({ N, r, p, dkLen }: ScryptParams): void {
  const ok =
    Number.isSafeInteger(N) && N > 1 && (N & (N - 1)) === 0 &&
    Number.isSafeInteger(r) && r >= 1 && Number.isSafeInteger(p) && p >= 1 &&
    Number.isSafeInteger(dkLen) && dkLen >= 1 && dkLen <= 1024 &&
    // 32-bit wasm memory: (N + 2) · 128 · r bytes must stay below 4 GiB; p·r < 2^30 (RFC 7914 §2)
    (N + 2) * 128 * r < 2 ** 32 - WASM_PAGE && p * r < 2 ** 30;
  if (!ok) throw new RangeError('invalid scrypt parameters');
}

type YieldingScheduler = { yield?: () => Promise<void> };

/** Lets other tasks run; avoids `setTimeout`, which browsers clamp to 4 ms when chained. */
function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: YieldingScheduler }).scheduler;
  if (scheduler?.yield) return scheduler.yield();
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Salsa20 word i sits at diagonal lane position DIAG[i] (see scrypt-wasm/generate.ts). */
const DIAG = Array.from({ length: 16 }, (_, i) => (i * 5) % 16);

function toDiagonal(src: Uint32Array, dst: Uint32Array): void {
  for (let b = 0; b < src.length; b += 16) for (let i = 0; i < 16; i++) dst[b + i] = src[b + DIAG[i]];
}

function fromDiagonal(src: Uint32Array, dst: Uint32Array): void {
  for (let b = 0; b < src.length; b += 16) for (let i = 0; i < 16; i++) dst[b + DIAG[i]] = src[b + i];
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

export async function scrypt(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
  onProgress?: Progress,
): Promise<Uint8Array> {
  validateScryptParams(params);
  const module = isLittleEndian() ? await loadModule() : null;
  if (!module) {
    const { N, r, p, dkLen } = params;
    return scryptAsync(password, salt, { N, r, p, dkLen, onProgress, asyncTick: 15 });
  }
  return scryptWasm(module, password, salt, params, onProgress);
}

async function scryptWasm(
  module: WebAssembly.Module,
  password: Uint8Array,
  salt: Uint8Array,
  { N, r, p, dkLen }: ScryptParams,
  onProgress?: Progress,
): Promise<Uint8Array> {
  const blockBytes = 128 * r;
  const blockWords = blockBytes / 4;
  const b = pbkdf2(sha256, password, salt, { c: 1, dkLen: p * blockBytes });
  const bWords = new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(((N + 2) * blockBytes) / WASM_PAGE) });
  const { exports } = await WebAssembly.instantiate(module, { env: { memory } });
  const { fill, mix } = exports as unknown as RomixExports;
  const words = new Uint32Array(memory.buffer);
  const X = 0;
  const Y = blockBytes;
  const V = 2 * blockBytes;
  const chunk = Math.max(2, Math.min(N, Math.floor(CHUNK_BYTES / blockBytes)) & ~1);
  const totalSteps = 2 * N * p;
  let done = 0;
  onProgress?.(0);
  try {
    for (let lane = 0; lane < p; lane++) {
      const block = bWords.subarray(lane * blockWords, (lane + 1) * blockWords);
      toDiagonal(block, words.subarray(V / 4, V / 4 + blockWords));
      for (let start = 0; start < N; start += chunk) {
        fill(X, V, r, N, start, Math.min(N, start + chunk));
        done += Math.min(chunk, N - start);
        onProgress?.(done / totalSteps);
        await yieldToEventLoop();
      }
      for (let start = 0; start < N; start += chunk) {
        mix(X, Y, V, r, N, start, Math.min(N, start + chunk));
        done += Math.min(chunk, N - start);
        onProgress?.(done / totalSteps);
        await yieldToEventLoop();
      }
      fromDiagonal(words.subarray(X / 4, X / 4 + blockWords), block);
    }
    return pbkdf2(sha256, password, b, { c: 1, dkLen });
  } finally {
    words.fill(0, 0, (V + blockBytes) / 4);
    b.fill(0);
  }
}
