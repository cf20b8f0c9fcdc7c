/**
 * One agent at a time per state dir: `run`, `repair` and `enroll` hold `agent.lock` (the
 * holder's pid, created exclusively) while they work, so a second agent cannot act on the same
 * disk or take over work the first one holds (at check-in an agent says it holds nothing else).
 * A lock left by a process that no longer exists is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class StateLockedError extends Error {
  override name = 'StateLockedError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws StateLockedError naming the holder; it is let go when the process exits. */
export function lockStateDir(dir: string): () => void {
  const path = join(dir, 'agent.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new StateLockedError(`another keyward-agent (pid ${holder}) is working with ${dir}; stop it first (systemctl stop keyward-agent), or wait for it to finish`);
      }
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    const release = () => rmSync(path, { force: true });
    process.once('exit', release);
    return release;
  }
  throw new StateLockedError(`could not take the lock ${path}`);
}
