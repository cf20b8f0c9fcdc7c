/**
 * scrypt (RFC 7914), async with progress. PBKDF2-HMAC-SHA256 (one iteration, RFC 8018) comes
 * from @noble/hashes; ROMix runs in the WebAssembly module built by
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
export type ScryptBackend = 'wasm' | 'noble-js';

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
  return (await loadModule()) ? 'wasm' : 'noble-js';
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

export async function scrypt(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
  onProgress?: Progress,
): Promise<Uint8Array> {
  validateScryptParams(params);
  const module = await loadModule();
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
  const b = pbkdf2(sha256, password, salt, { c: 1, dkLen: p * blockBytes });
  const memory = new WebAssembly.Memory({ initial: Math.ceil(((N + 2) * blockBytes) / WASM_PAGE) });
  const { exports } = await WebAssembly.instantiate(module, { env: { memory } });
  const { fill, mix } = exports as unknown as RomixExports;
  const bytes = new Uint8Array(memory.buffer);
  const X = 0;
  const Y = blockBytes;
  const V = 2 * blockBytes;
  const chunk = Math.max(2, Math.min(N, Math.floor(CHUNK_BYTES / blockBytes)) & ~1);
  const totalSteps = 2 * N * p;
  let done = 0;
  onProgress?.(0);
  try {
    for (let lane = 0; lane < p; lane++) {
      bytes.set(b.subarray(lane * blockBytes, (lane + 1) * blockBytes), V);
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
      b.set(bytes.subarray(X, X + blockBytes), lane * blockBytes);
    }
    return pbkdf2(sha256, password, b, { c: 1, dkLen });
  } finally {
    bytes.fill(0, 0, V + blockBytes);
    b.fill(0);
  }
}
