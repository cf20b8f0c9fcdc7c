/**
 * The KEK commands as an operator runs them: without a named data directory or KEK file they
 * refuse in one line and create nothing (the old `rewrap-kek --database …` made a new,
 * unrelated ./data/kek.key and crashed); with one they print the next steps, and a whole
 * rotation through the command line leaves keys that still open and an audit log that verifies.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startKeywardServer } from '../../server/main.ts';
import { keyward, noStackTrace } from './cli-run.ts';
import { PG_URL } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'keyward-kek-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('KEK commands on the command line', () => {
  it.each(['rewrap-kek', 'kek-add', 'kek-retire'])('%s without --data or --kek-file refuses in one line and creates nothing', async (command) => {
    const cwd = join(root, `empty-${command}`);
    mkdirSync(cwd);
    const run = await keyward(command === 'kek-add' ? [command] : [command, '--database', PG_URL], { cwd, env: { KEYWARD_KEK_FILE: '' } });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^keyward: ${command} needs the KEK your instances use: --kek-file FILE .* or --data DIR`))]);
    noStackTrace(run);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a rotation through the command line: kek-add prints the steps, rewrap-kek and kek-retire finish it, verify-audit passes', async () => {
    const dataDir = join(root, 'data');
    const server = await startKeywardServer({ port: 0, dataDir, quiet: true });
    const oldKek = server.deps.kek.id;
    await server.stop();
    const added = await keyward(['kek-add', '--data', dataDir]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`${join(dataDir, 'kek.key.new')}. Next:`);
    expect(added.stdout).toMatch(/1\. Copy .*kek\.key\.new beside the KEK file of every other instance/);
    const rewrap = await keyward(['rewrap-kek', '--data', dataDir]);
    expect(rewrap.code).toBe(0);
    expect(rewrap.stdout).toMatch(/re-wrapped 0 key versions under KEK [0-9a-f]{16}/);
    const retire = await keyward(['kek-retire', '--data', dataDir]);
    expect(retire.stdout).toContain(`retired KEK ${oldKek}`);
    expect(existsSync(join(dataDir, `kek.key.old-${oldKek}`))).toBe(false);
    const again = await keyward(['rewrap-kek', '--data', dataDir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already sealed under the current KEK .* run keyward kek-add/);
    const verify = await keyward(['verify-audit', '--data', dataDir]);
    expect(verify.code).toBe(0);
  }, 60_000);
});
