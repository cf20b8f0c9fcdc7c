/**
 * The key-encryption key (KEK): 32 random bytes in a key file (mode 0600; default
 * `<dataDir>/kek.key`, or wherever `--kek-file` / KEYWARD_KEK_FILE puts it), created on first
 * start. Its id is the first 16 hex digits of SHA-256 over the key, stored on every row the
 * KEK wraps so a later re-wrap knows which KEK each row needs.
 */
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
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
  const seen = new Set([current.id]);
  const ring: Kek[] = [];
  for (const file of kekRingFiles(kekPath)) {
    restrictFile(file);
    const kek = kekFromBytes(readKeyFile(file));
    if (!seen.has(kek.id)) ring.push(kek);
    seen.add(kek.id);
  }
  return ring;
}

/** The ring's other files: `<kek>.new` (added for a rotation) and `<kek>.old-<id>` (kept after a re-wrap). */
export function kekRingFiles(kekPath: string): string[] {
  const dir = dirname(kekPath);
  const name = basename(kekPath);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f === `${name}.new` || f.startsWith(`${name}.old-`))
    .map((f) => join(dir, f));
}

/** The path a KEK added for a rotation is written to, next to the KEK file. */
export function addedKekPath(kekPath: string): string {
  return `${kekPath}.new`;
}

/**
 * Reads the whole ring as it is on disk now: the KEK file (which must exist: a running
 * instance never creates a new KEK behind an operator's back) and the others beside it.
 */
export function readKekRing(kekPath: string): { current: Kek; previous: Kek[] } {
  restrictFile(kekPath);
  const current = kekFromBytes(readKeyFile(kekPath));
  return { current, previous: loadPreviousKeks(kekPath, current) };
}

/** Changes whenever a ring file appears, goes, or is rewritten: cheap enough to poll. */
export function kekRingSignature(kekPath: string): string {
  return [kekPath, ...kekRingFiles(kekPath)]
    .map((f) => {
      try {
        const st = statSync(f);
        return `${f}:${st.mtimeMs}:${st.size}`;
      } catch {
        return `${f}:-`;
      }
    })
    .join('|');
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
