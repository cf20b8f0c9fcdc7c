/**
 * Runs the `keyward-agent` CLI in a child process, with text on its standard input (the disk
 * passphrase, as an admin's script would pass it), extra environment, and optionally as another
 * (non-root) user through setpriv(1). By default it runs the tests' entry
 * (agent-cli-for-tests.ts: the real commands, cheap PBKDF2 for the key slots the agent adds,
 * and KEYWARD_AGENT_CRASH_AFTER_STEP); `bin: 'production'` runs the bin devices run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The bin devices run (package.json `bin`, the bundle's entry). */
export const PRODUCTION_BIN = join(import.meta.dirname, '../../agent/cli.ts');
/** The same commands with the tests' seams (cheap LUKS KDF, crash after a rotation step). */
export const TEST_ENTRY = join(import.meta.dirname, 'agent-cli-for-tests.ts');

export type CliResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type CliOptions = { stdin?: string; env?: Record<string, string>; asUid?: number; bin?: 'tests' | 'production' };

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const entry = options.bin === 'production' ? PRODUCTION_BIN : TEST_ENTRY;
  const command = options.asUid === undefined
    ? { file: process.execPath, args: [entry, ...args] }
    : { file: '/usr/bin/setpriv', args: ['--reuid', String(options.asUid), '--regid', String(options.asUid), '--clear-groups', process.execPath, entry, ...args] };
  const env = { ...process.env, ...options.env };
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
