/**
 * Test and bench hooks stay out of production builds: no script in `.output/chrome-mv3` or
 * `.output/firefox-mv3` (what `npm run build` makes) holds the vault bench hook or its database
 * name, while a `--mode bench` build (what `npm run bench` uses) does, so the check is not
 * passing merely because the marker strings changed.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EXTENSION_DIR } from '../support/browser.ts';
import { FIREFOX_EXTENSION_DIR } from '../support/firefox-driver.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The bench hook, its database, and the test seams the vault once had (passphrase change, data-key inspection). */
const HOOK_MARKERS = ['keyward-bench', 'keywardBench', 'passphraseChange', 'testHooks', 'observeDataKey', 'ForTests'];

/** Every script of a build, by its path inside the build. */
function scripts(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.js')) {
      const path = join(entry.parentPath, entry.name);
      found.set(path.slice(dir.length + 1), readFileSync(path, 'utf8'));
    }
  }
  return found;
}

function markersIn(dir: string): string[] {
  const hits: string[] = [];
  for (const [path, source] of scripts(dir)) {
    for (const marker of HOOK_MARKERS) if (source.includes(marker)) hits.push(`${path}: ${marker}`);
  }
  return hits;
}

describe('production builds', () => {
  it.each([['chrome', EXTENSION_DIR], ['firefox', FIREFOX_EXTENSION_DIR]])('the %s build holds no bench or test hook', (_browser, dir) => {
    const all = scripts(dir);
    expect(all.has('background.js')).toBe(true);
    expect(markersIn(dir)).toEqual([]);
  });

  it('the bench build (wxt --mode bench) installs the vault bench hook in its background', async () => {
    const outDir = join(ROOT, '.output', 'chrome-mv3-bench');
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/wxt/bin/wxt.mjs'), 'build', '-b', 'chrome', '--mode', 'bench'], { cwd: ROOT });
    const background = scripts(outDir).get('background.js') ?? '';
    expect(background).toContain('keywardBench');
    expect(background).toContain('keyward-bench-vault');
  }, 180_000);
});
