/**
 * A 32-byte secret kept in its own file (base64, one line, mode 0600): the KEK and the audit
 * key. Created on first use; an existing file readable by others is tightened when it is read.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDirExists, restrictFile } from '../private-files.ts';

export type LoadedKeyFile = { key: Buffer; created: boolean; path: string };

/** Reads the key file, failing with a message that names the file (never its content). */
export function readKeyFile(path: string): Buffer {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return key;
}

/** Reads the key file, or creates it with 32 random bytes when absent. */
export function loadOrCreateKeyFile(path: string): LoadedKeyFile {
  if (existsSync(path)) {
    restrictFile(path);
    return { key: readKeyFile(path), created: false, path };
  }
  ensureDirExists(dirname(path));
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key, created: true, path };
}
