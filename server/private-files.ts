/**
 * Files only the service's own account may read: its data directory (0700) and what holds
 * secrets or data in it — the database files, key files, the audit checkpoint file (0600).
 * Modes are set on creation and fixed on every start, so an install made with a loose
 * umask (or copied around) is tightened rather than trusted.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/** Creates the directory (and its parents) if needed and makes it 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Creates a directory that does not exist yet as 0700; leaves an existing one (e.g. /etc/keyward) alone. */
export function ensureDirExists(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Makes an existing file 0600 (no-op when it does not exist). */
export function restrictFile(path: string): void {
  if (existsSync(path)) chmodSync(path, 0o600);
}

/** Creates an empty file as 0600 if it does not exist yet, and makes it 0600 if it does. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}
