/** lib/keys and lib/i18n run in Node, browser pages and the extension's service worker. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DIRS = ['lib/keys', 'lib/i18n'];
const NODE_ONLY = [/from ['"]node:/, /from ['"](fs|path|crypto|os|buffer)['"]/, /\bBuffer\b/, /\bprocess\./, /\brequire\(/];

describe('key formats and messages are platform-neutral', () => {
  const files = DIRS.flatMap((dir) =>
    readdirSync(new URL(`../../${dir}/`, import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`),
  );

  it.each(files)('%s uses no Node-only API and imports with .ts extensions', (file) => {
    const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    for (const pattern of NODE_ONLY) expect(source).not.toMatch(pattern);
    for (const [, path] of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) expect(path).toMatch(/\.ts$/);
  });
});
