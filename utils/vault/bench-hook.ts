/**
 * Benchmark hook for `tests/bench/vault.bench.ts`, in whatever context installed it — the
 * extension's service worker:
 *   `globalThis.keywardBench.unlock(passphrase)` times a real `Vault.unlock` (production KDF
 *   parameters);
 *   `globalThis.keywardBench.reveal(passphrase, runs)` unlocks, then times `runs` calls of
 *   `Vault.getKey` (decrypt one key) over the vault's synthetic keys.
 * Both work on their own database, `keyward-bench-vault`, set up on first use with synthetic
 * keys only, so they never touch the user's vault.
 */
import { openVault, type Vault } from './vault.ts';
import { scryptBackend } from './scrypt.ts';

export type VaultBenchResult = { ms: number; backend: string };
export type VaultRevealBenchResult = { samples: number[]; keys: number };
export type KeywardBench = {
  unlock(passphrase: string): Promise<VaultBenchResult>;
  reveal(passphrase: string, runs: number): Promise<VaultRevealBenchResult>;
};

export const BENCH_DB_NAME = 'keyward-bench-vault';
const BENCH_KEYS = 50;
const BENCH_KEY = 'AU2APHMKWBGXPWKXM3X3VAPY';

/** The bench vault, set up with `passphrase` on first use and left locked. */
async function openBenchVault(passphrase: string): Promise<Vault> {
  const vault = await openVault(BENCH_DB_NAME);
  if (!(await vault.isInitialized())) {
    await vault.setup(passphrase);
    vault.lock();
  }
  return vault;
}

export function installVaultBenchHook(): void {
  const bench: KeywardBench = {
    async unlock(passphrase) {
      const vault = await openBenchVault(passphrase);
      try {
        const started = performance.now();
        await vault.unlock(passphrase);
        const ms = performance.now() - started;
        return { ms, backend: await scryptBackend() };
      } finally {
        vault.close();
      }
    },
    async reveal(passphrase, runs) {
      const vault = await openBenchVault(passphrase);
      try {
        await vault.unlock(passphrase);
        const stored = new Set((await vault.listKeyVersions()).map((k) => k.deviceId));
        for (let i = 0; i < BENCH_KEYS; i++) {
          if (!stored.has(`d${i}`)) await vault.putKey({ deviceId: `d${i}`, volumeId: 'disk1', kind: 'filevault', version: 1, key: BENCH_KEY });
        }
        const samples: number[] = [];
        for (let i = 0; i < runs; i++) {
          const started = performance.now();
          const key = await vault.getKey(`d${i % BENCH_KEYS}`, 'disk1');
          samples.push(performance.now() - started);
          if (key?.key !== BENCH_KEY) throw new Error('the bench vault returned a wrong key');
        }
        return { samples, keys: BENCH_KEYS };
      } finally {
        vault.close();
      }
    },
  };
  (globalThis as { keywardBench?: KeywardBench }).keywardBench = bench;
}
