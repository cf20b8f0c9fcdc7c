/**
 * The key-encryption key (KEK): 32 random bytes in a key file (mode 0600; default
 * `<dataDir>/kek.key`, or wherever `--kek-file` / KEYWARD_KEK_FILE puts it), created on first
 * start. Its id is the first 16 hex digits of SHA-256 over the key, stored on every row the
 * KEK wraps so a later re-wrap knows which KEK each row needs.
 */
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadOrCreateKeyFile, readKeyFile } from './key-file.ts';
import { restrictFile } from '../private-files.ts';

export type Kek = { id: string; key: Buffer };

export function kekFromBytes(key: Buffer): Kek {
  if (key.length !== 32) throw new Error('a KEK is 32 bytes');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

export function generateKek(): Kek {
  return kekFromBytes(randomBytes(32));
}

export type LoadedKek = { kek: Kek; created: boolean; path: string };

/** The KEK file's default place. */
export function defaultKekPath(dataDir: string): string {
  return join(dataDir, 'kek.key');
}

/** Reads the KEK file, or creates it (0600) when absent. */
export function loadOrCreateKekFile(path: string): LoadedKek {
  const loaded = loadOrCreateKeyFile(path);
  return { kek: kekFromBytes(loaded.key), created: loaded.created, path };
}

/**
 * Older KEKs next to the KEK file: `<kek>.new` (a re-wrap interrupted after its commit) and
 * `<kek>.old-<id>` (kept after a re-wrap), so rows sealed under either still open.
 */
export function loadPreviousKeks(kekPath: string, current: Kek): Kek[] {
  const dir = dirname(kekPath);
  const name = basename(kekPath);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f === `${name}.new` || f.startsWith(`${name}.old-`))
    .map((f) => {
      restrictFile(join(dir, f));
      return kekFromBytes(readKeyFile(join(dir, f)));
    })
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
