/** Shared set-up for the vault tests: fake IndexedDB, a fast test-only KDF, sample devices. */
import 'fake-indexeddb/auto';
import type { Device } from '../../lib/api/contract.ts';
import { openVault, type OpenVaultOptions, type Vault } from '../../utils/vault/index.ts';
import { openVaultDb, type VaultDb } from '../../utils/vault/db.ts';

/** Far below the production floor: only for tests, passed explicitly. */
export const TEST_KDF = { N: 2 ** 10, r: 8, p: 1, dkLen: 32 };

export const PASSPHRASE = 'correct horse battery staple';

export function freshDbName(): string {
  return `vault-test-${crypto.randomUUID()}`;
}

export function testClock(start = Date.UTC(2026, 10, 22, 12)) {
  const clock = { t: start, now: () => clock.t, advance: (ms: number) => (clock.t += ms) };
  return clock;
}

export async function openTestVault(name = freshDbName(), options: OpenVaultOptions = {}): Promise<Vault> {
  return openVault(name, { kdf: TEST_KDF, ...options });
}

/** A second, raw connection to the same database, to inspect or tamper with stored rows. */
export function rawDb(name: string): VaultDb {
  return openVaultDb(name);
}

export function device(id: string, name: string, overrides: Partial<Device> = {}): Device {
  return {
    id,
    name,
    platform: 'macos',
    ownership: 'personal',
    keyKind: 'filevault',
    ownerId: 'u1',
    ownerName: 'Astrid Lund',
    escrowEnabled: true,
    lastCheckinAt: '2026-11-22T10:00:00.000Z',
    keyStatus: 'escrowed',
    volumes: [{ id: `${id}-v1`, name: 'Macintosh HD', keyStatus: 'escrowed', activeVersion: 1, protectorIds: [] }],
    operation: null,
    notice: null,
    updatedAt: '2026-11-22T10:00:00.000Z',
    ...overrides,
  };
}

export async function expectVaultError(promise: Promise<unknown> | (() => unknown), code: string): Promise<import('../../utils/vault/index.ts').VaultError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    const { VaultError } = await import('../../utils/vault/index.ts');
    if (error instanceof VaultError && error.code === code) return error;
    throw new Error(`expected VaultError ${code}, got ${String(error)}`);
  }
  throw new Error(`expected VaultError ${code}, but it succeeded`);
}
