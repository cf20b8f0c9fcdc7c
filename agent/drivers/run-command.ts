/**
 * Runs a platform tool (cryptsetup, fdesetup, manage-bde) without a shell. Secrets go in
 * through standard input only; the error message names the tool, its exit code and its
 * stderr, never the input.
 */
import { spawn } from 'node:child_process';
import { DiskError } from './driver.ts';

export type CommandResult = { code: number; stdout: string; stderr: string };
/** runCommand's shape, so drivers can be given recorded output in tests. */
export type CommandRunner = (file: string, args: string[], stdin?: string) => Promise<CommandResult>;

export function runCommand(file: string, args: string[], stdin = ''): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A missing or unrunnable tool: the platform's encryption tool is not installed.
    child.on('error', (error) => reject(new DiskError(`${file} could not be started: ${error.message}`, 'driver_unavailable')));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // The tool may exit before reading everything (e.g. a wrong key): ignore EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}
