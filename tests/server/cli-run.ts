/**
 * Runs the `keyward` command as an operator would (a child process), for tests of its output,
 * exit codes and the files it leaves.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url));

export type Run = { code: number | null; stdout: string; stderr: string };

/** Runs `keyward …`; with `untilServing`, stops it (SIGTERM) once it says where it serves. */
export function keyward(args: string[], options: { env?: Record<string, string>; untilServing?: boolean; cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    let stopping = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.untilServing && !stopping && stdout.includes('keyward: serving ')) {
        stopping = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const noStackTrace = (r: Run) => expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
