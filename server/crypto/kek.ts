/**
 * The key-encryption key (KEK): 32 random bytes in `<dataDir>/kek.key` (mode 0600), created on
 * first start. Its id is the first 16 hex digits of SHA-256 over the key, stored on every row
 * the KEK wraps so a later re-wrap knows which KEK each row needs.
 */
import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type Kek = { id: string; key: Buffer };

export function kekFromBytes(key: Buffer): Kek {
  if (key.length !== 32) throw new Error('a KEK is 32 bytes');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

export function generateKek(): Kek {
  return kekFromBytes(randomBytes(32));
}

export type LoadedKek = { kek: Kek; created: boolean; path: string };

/** Reads the KEK file, or creates it (0600) when absent. */
export function loadOrCreateKekFile(dataDir: string): LoadedKek {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'kek.key');
  if (existsSync(path)) return { kek: readKekFile(path), created: false, path };
  const kek = generateKek();
  writeFileSync(path, kek.key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { kek, created: true, path };
}

function readKekFile(path: string): Kek {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return kekFromBytes(key);
}

/**
 * Older KEKs still on disk: `kek.key.new` (a re-wrap interrupted after its commit) and
 * `kek.key.old-<id>` (kept after a re-wrap), so rows sealed under either still open.
 */
export function loadPreviousKeks(dataDir: string, current: Kek): Kek[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir)
    .filter((f) => f === 'kek.key.new' || f.startsWith('kek.key.old-'))
    .map((f) => readKekFile(join(dataDir, f)))
    .filter((k) => k.id !== current.id);
}

export function kekBackupWarning(path: string): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    `!! A new key-encryption key was created: ${path}`,
    '!! Every escrowed recovery key is encrypted with it. BACK IT UP NOW, somewhere safe',
    '!! and separate from the database. Without this file the escrowed keys are lost.',
    bar,
  ].join('\n');
}
