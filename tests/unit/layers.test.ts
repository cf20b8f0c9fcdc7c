/**
 * Imports point one way (docs/architecture.md): lib/ imports none of the three programs; the
 * service imports neither the extension nor the agent (the demo's simulated fleet is started
 * beside it, scripts/demo-fleet.ts); the agent imports neither the service nor the extension;
 * the extension does not import the service or the agent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const EXTENSION = ['entrypoints', 'components', 'utils'];

/** The top-level folder of every relative import of every .ts/.tsx file under `dir`. */
function importedFolders(dir: string): { file: string; folder: string }[] {
  const found: { file: string; folder: string }[] = [];
  const files = readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
  for (const file of files) {
    const path = join(ROOT, dir, file);
    const source = readFileSync(path, 'utf8');
    for (const match of source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(ROOT, resolve(dirname(path), match[1]));
      found.push({ file: join(dir, file), folder: target.split('/')[0] });
    }
  }
  return found;
}

function crossings(dir: string, forbidden: string[]): string[] {
  return importedFolders(dir).filter(({ folder }) => forbidden.includes(folder)).map(({ file, folder }) => `${file} -> ${folder}/`);
}

describe('which way imports point', () => {
  it('reads the sources it checks', () => {
    expect(importedFolders('server').length).toBeGreaterThan(100);
    expect(importedFolders('entrypoints').length).toBeGreaterThan(20);
  });

  it('lib/ imports none of the three programs', () => {
    expect(crossings('lib', ['server', 'agent', 'scripts', ...EXTENSION])).toEqual([]);
  });

  it('the service imports neither the extension nor the agent', () => {
    expect(crossings('server', ['agent', 'scripts', ...EXTENSION])).toEqual([]);
  });

  it('the agent imports neither the service nor the extension', () => {
    expect(crossings('agent', ['server', 'scripts', ...EXTENSION])).toEqual([]);
  });

  it('the agent imports nothing from tests/ (the tests hand their seams to agent/cli-main.ts)', () => {
    expect(crossings('agent', ['tests'])).toEqual([]);
  });

  it.each(EXTENSION)('the extension (%s/) imports neither the service nor the agent', (dir) => {
    expect(crossings(dir, ['server', 'agent', 'scripts'])).toEqual([]);
  });
});
