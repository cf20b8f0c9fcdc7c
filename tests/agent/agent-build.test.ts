/**
 * Issue #7: the production agent carries no test hook. The bundle devices run (`npm run
 * build:agent`, built from agent/cli.ts) has no crash injection, no cheap-KDF switch and no
 * test-only state field, not even as text; the tests reach those only through their own entry
 * (agent-cli-for-tests.ts). The bundle and the bin both still answer --help.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PRODUCTION_BIN } from './cli-run.ts';

// A vite build and a few node processes (seconds each on a busy machine).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const exec = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');
const HOOK_MARKERS = ['CRASH_AFTER', 'FAST_KDF', 'ForTests', 'pbkdf-force-iterations', 'KEYWARD_AGENT_'];
let outDir: string;
let bundle: string;

beforeAll(async () => {
  // Its own output folder: cli-messages.test.ts builds dist/ at the same time.
  outDir = mkdtempSync(join(tmpdir(), 'keyward-agent-build-'));
  await exec('npm', ['run', 'build:agent', '--', '--outDir', outDir], { cwd: REPO });
  bundle = join(outDir, 'keyward-agent.mjs');
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('the production agent (issue #7)', () => {
  it('its bundle contains no test hook', () => {
    const text = readFileSync(bundle, 'utf8');
    expect(text).toContain('usage: keyward-agent <command>');
    for (const marker of HOOK_MARKERS) expect(text, marker).not.toContain(marker);
  });

  it('the bundle and the bin answer --help with the usage and no environment hook', async () => {
    for (const entry of [bundle, PRODUCTION_BIN]) {
      const help = await exec(process.execPath, [entry, '--help'], { cwd: tmpdir() });
      expect(help.stdout, entry).toContain('usage: keyward-agent <command>');
      expect(help.stdout, entry).toContain('install-service');
      expect(help.stdout, entry).not.toContain('KEYWARD_AGENT_');
      const enroll = await exec(process.execPath, [entry, 'enroll', '--help'], { cwd: tmpdir() });
      expect(enroll.stdout, entry).toContain('keyward-agent enroll --server URL --token TOKEN');
    }
  });
});
