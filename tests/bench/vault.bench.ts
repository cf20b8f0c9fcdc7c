/**
 * Vault benchmarks:
 *   kdf_native_ms   — node:crypto.scrypt with the vault's parameters (N=2^17, r=8, p=1), the floor.
 *   vault_reveal_ms — decrypt one key from an unlocked vault (Node, fake-indexeddb).
 *   vault_unlock_ms — a real `Vault.unlock` in Chromium's extension service worker, through
 *                     `globalThis.keywardBench.unlock` (utils/vault/bench-hook.ts).
 *   vault_reveal_sw_ms — `Vault.getKey` (decrypt one key) from an unlocked vault in the same
 *                     service worker, through `globalThis.keywardBench.reveal`, each call timed
 *                     inside the worker.
 * The service-worker figures use the built extension (.output/chrome-mv3) when its worker has
 * the hook, otherwise a minimal extension bundled here from utils/vault with the same CSP.
 * Unlocks are spaced out as real ones are: each allocates 128 MiB, and in a plain Chromium page
 * back-to-back runs were seen to slow down while the previous run's memory was being released.
 */
import 'fake-indexeddb/auto';
import { scrypt as nodeScrypt } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Worker } from 'playwright-core';
import { DEFAULT_KDF, openVault } from '../../utils/vault/index.ts';
import type { KeywardBench, VaultBenchResult, VaultRevealBenchResult } from '../../utils/vault/bench-hook.ts';
import { report } from './stats.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { N, r, p, dkLen } = DEFAULT_KDF;
const PARAMS_NOTE = `scrypt N=2^${Math.log2(N)} r=${r} p=${p}`;
const UNLOCK_RUNS = 7;
const PAUSE_MS = 1500;
const PASSPHRASE = 'benchmark passphrase 0123';

const scryptAsync = promisify(nodeScrypt) as (pw: string, salt: string, len: number, opts: object) => Promise<Buffer>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function benchNativeKdf(): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    await scryptAsync(PASSPHRASE, `salt-${i}`, dkLen, { N, r, p, maxmem: 512 * 1024 * 1024 });
    samples.push(performance.now() - t);
  }
  report('kdf_native_ms', samples, 'ms', `node:crypto.scrypt ${PARAMS_NOTE}, node ${process.version}`);
}

async function benchReveal(): Promise<void> {
  const vault = await openVault(`bench-reveal-${process.pid}`);
  await vault.setup(PASSPHRASE);
  for (let i = 0; i < 50; i++) {
    await vault.putKey({ deviceId: `d${i}`, volumeId: 'disk1', kind: 'filevault', version: 1, key: 'AU2APHMKWBGXPWKXM3X3VAPY' });
  }
  const samples: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await vault.getKey(`d${i % 50}`, 'disk1');
    samples.push(performance.now() - t);
  }
  vault.close();
  report('vault_reveal_ms', samples, 'ms', 'getKey from an unlocked vault of 50 keys, node + fake-indexeddb');
}

const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

async function launchExtension(dir: string): Promise<{ context: BrowserContext; worker: Worker }> {
  const context = await chromium.launchPersistentContext('', {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [`--disable-extensions-except=${dir}`, `--load-extension=${dir}`, ...LAUNCH_ARGS],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
  return { context, worker };
}

async function hasBenchHook(worker: Worker): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const found = await worker.evaluate(() => {
      const bench = (globalThis as { keywardBench?: Partial<KeywardBench> }).keywardBench;
      return typeof bench?.unlock === 'function' && typeof bench.reveal === 'function';
    });
    if (found) return true;
    await sleep(100);
  }
  return false;
}

/** A minimal MV3 extension whose service worker is utils/vault plus the bench hook. */
async function buildHarnessExtension(): Promise<string> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'keyward-vault-bench-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `import { installVaultBenchHook } from ${JSON.stringify(join(root, 'utils/vault/bench-hook.ts'))};\ninstallVaultBenchHook();\n`);
  await build({ entryPoints: [entry], bundle: true, format: 'esm', outfile: join(dir, 'background.js'), logLevel: 'error' });
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      manifest_version: 3,
      name: 'Keyward vault bench',
      version: '0.0.1',
      background: { service_worker: 'background.js', type: 'module' },
      content_security_policy: { extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'" },
    }),
  );
  return dir;
}

const REVEAL_RUNS = 500;

async function benchInServiceWorker(): Promise<void> {
  const built = join(root, '.output', 'chrome-mv3-bench');
  let source = 'built extension';
  let launched: { context: BrowserContext; worker: Worker } | null = null;
  let harnessDir: string | null = null;
  if (existsSync(join(built, 'manifest.json'))) {
    launched = await launchExtension(built);
    if (!(await hasBenchHook(launched.worker))) {
      await launched.context.close();
      launched = null;
    }
  }
  if (!launched) {
    harnessDir = await buildHarnessExtension();
    launched = await launchExtension(harnessDir);
    source = 'utils/vault harness extension';
    if (!(await hasBenchHook(launched.worker))) throw new Error('bench hook missing in the harness extension');
  }
  const { context, worker } = launched;
  try {
    const unlock = () => worker.evaluate((pw) => (globalThis as { keywardBench?: KeywardBench }).keywardBench!.unlock(pw), PASSPHRASE);
    await unlock(); // sets up the bench database on first use
    const samples: number[] = [];
    let backend = '';
    for (let i = 0; i < UNLOCK_RUNS; i++) {
      await sleep(PAUSE_MS);
      const result: VaultBenchResult = await unlock();
      samples.push(result.ms);
      backend = result.backend;
    }
    report('vault_unlock_ms', samples, 'ms', `chromium service worker (${source}), ${PARAMS_NOTE}, scrypt backend ${backend}, runs ${PAUSE_MS} ms apart`);
    await sleep(PAUSE_MS);
    const reveal: VaultRevealBenchResult = await worker.evaluate(
      ([pw, runs]) => (globalThis as { keywardBench?: KeywardBench }).keywardBench!.reveal(pw, runs),
      [PASSPHRASE, REVEAL_RUNS] as const,
    );
    report(
      'vault_reveal_sw_ms',
      reveal.samples,
      'ms',
      `getKey from an unlocked vault of ${reveal.keys} keys, chromium service worker (${source}), IndexedDB, timed in the worker (performance.now, 0.1 ms resolution)`,
    );
  } finally {
    await context.close();
    if (harnessDir) rmSync(harnessDir, { recursive: true, force: true });
  }
}

await benchNativeKdf();
await benchReveal();
try {
  await benchInServiceWorker();
} catch (error) {
  console.log(JSON.stringify({ metric: 'vault_unlock_ms', error: String(error) }));
}
