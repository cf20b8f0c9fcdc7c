/**
 * Runs the real `keyward-agent` CLI in a child process, with text on its standard input (the
 * disk passphrase, as an admin's script would pass it), extra environment, and optionally as
 * another (non-root) user through setpriv(1). Every run has KEYWARD_AGENT_TEST_FAST_KDF=1: the
 * tests' LUKS containers are throw-away, so the key slots the agent adds use cheap PBKDF2.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '../../agent/cli.ts');

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export function runCli(args: string[], options: { stdin?: string; env?: Record<string, string>; asUid?: number } = {}): Promise<CliResult> {
  const command = options.asUid === undefined
    ? { file: process.execPath, args: [CLI, ...args] }
    : { file: '/usr/bin/setpriv', args: ['--reuid', String(options.asUid), '--regid', String(options.asUid), '--clear-groups', process.execPath, CLI, ...args] };
  const env = { ...process.env, KEYWARD_AGENT_TEST_FAST_KDF: '1', ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}

/** The device id `enroll` prints. */
export function enrolledDeviceId(result: CliResult): string {
  return /enrolled: device (\S+)/.exec(result.stdout)?.[1] ?? '';
}
