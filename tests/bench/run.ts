/**
 * `npm run bench`: runs every `tests/bench/*.bench.ts` in turn. Each prints its figures as
 * JSON lines (`{"metric":…,"median":…,"p95":…,"runs":…,"unit":…,"note":…}`) on stdout.
 * Benchmarks report; they never fail the build. A bench that crashes is reported as such.
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of files) {
  const run = spawnSync(process.execPath, [join(here, file)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) {
    console.log(JSON.stringify({ metric: 'bench_error', file, exitCode: run.status }));
  }
}
