/**
 * Benchmark hook for `tests/bench/vault.bench.ts`: `globalThis.keywardBench.unlock(passphrase)`
 * times a real `Vault.unlock` (production KDF parameters) in whatever context installed it —
 * the extension's service worker. It works on its own database, `keyward-bench-vault`, set up
 * on first use, so it never touches the user's vault.
 */
import { openVault } from './vault.ts';
import { scryptBackend } from './scrypt.ts';

export type VaultBenchResult = { ms: number; backend: string };
export type KeywardBench = { unlock(passphrase: string): Promise<VaultBenchResult> };

export const BENCH_DB_NAME = 'keyward-bench-vault';

export function installVaultBenchHook(): void {
  const bench: KeywardBench = {
    async unlock(passphrase) {
      const vault = await openVault(BENCH_DB_NAME);
      try {
        if (!(await vault.isInitialized())) {
          await vault.setup(passphrase);
          vault.lock();
        }
        const started = performance.now();
        await vault.unlock(passphrase);
        const ms = performance.now() - started;
        return { ms, backend: await scryptBackend() };
      } finally {
        vault.close();
      }
    },
  };
  (globalThis as { keywardBench?: KeywardBench }).keywardBench = bench;
}
