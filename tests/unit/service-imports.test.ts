/** The escrow service does not import the device agent: the demo's simulated fleet is started beside it (scripts/demo-fleet.ts). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SERVER = join(import.meta.dirname, '../../server');

describe('the service and the agent', () => {
  const files = readdirSync(SERVER, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

  it('finds the service sources', () => {
    expect(files).toContain('main.ts');
  });

  it.each(files)('server/%s imports nothing from agent/', (file) => {
    const source = readFileSync(join(SERVER, file), 'utf8');
    const imports = [...source.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]);
    expect(imports.filter((path) => /(^|\/)agent\//.test(path))).toEqual([]);
  });
});
