/**
 * Files only the service's own account may read: its data directory (0700) and what holds
 * secrets or data in it — the database files, key files, the audit checkpoint file (0600).
 * Modes are set on creation and fixed on every start, so an install made with a loose
 * umask (or copied around) is tightened rather than trusted. A file that is already private
 * is left alone, so one provisioned read-only by another account (e.g. root, 0400) still works.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

function tighten(path: string, mode: number): void {
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, mode);
}

/** Creates the directory (and its parents) if needed and makes it 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, 0o700);
}

/** Creates a directory that does not exist yet as 0700; leaves an existing one (e.g. /etc/keyward) alone. */
export function ensureDirExists(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Makes an existing file private (no-op when it does not exist). */
export function restrictFile(path: string): void {
  if (existsSync(path)) tighten(path, 0o600);
}

/** Creates an empty file as 0600 if it does not exist yet, and makes it private if it does. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  tighten(path, 0o600);
}
