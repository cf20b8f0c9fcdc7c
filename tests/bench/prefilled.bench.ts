/**
 * Store and reveal on a pre-filled SQLite database (`_prefilled`): 100,000 devices (one volume
 * each) and 1,000,000 finished operations besides the bench's own 64 devices, with the same
 * requests, connections and duration as service.bench.ts, to compare with its empty-database
 * figures. Filling takes long, so the filled data directory is kept in the system's temp
 * directory, keyed by the schema (a hash of the migrations), and copied for each run; the note
 * says how long filling took when it was made.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKeywardServer } from '../../server/main.ts';
import { sqliteDatabasePath } from '../../server/db/open.ts';
import { createUser } from '../../server/seed.ts';
import { reportValue } from './stats.ts';
import { runWrk } from './wrk.ts';
import { benchConfig, describeRun, prepare, revealRequests, storeRequests } from './service-fixture.ts';

const DEVICES = 100_000;
const OPERATIONS_PER_DEVICE = 10;
const CONNECTIONS = 64;
const DURATION_MS = Number(process.env.KEYWARD_BENCH_MS ?? 6000);
const WARMUP_MS = 1000;

const migrations = fileURLToPath(new URL('../../server/db/migrations.ts', import.meta.url));
const schemaKey = createHash('sha256').update(readFileSync(migrations)).digest('hex').slice(0, 12);
const cacheDir = join(tmpdir(), `keyward-bench-prefilled-${schemaKey}`);
const builtFile = join(cacheDir, 'prefilled.json');

type Built = { seconds: number; devices: number; operations: number };

/** Rows as enrollment and finished rotations leave them, written straight into the file in one transaction. */
function fill(path: string, orgId: string, ownerId: string): void {
  const db = new DatabaseSync(path);
  try {
    const at = new Date().toISOString();
    const device = db.prepare(`insert into devices (id, org_id, owner_id, name, ownership, platform, key_kind, escrow_enabled, last_checkin_at, checkin_requested_at, agent_credential_hash, enrolled_at, updated_at, credential_issued_at)
      values (?, ?, ?, ?, 'corporate', 'linux', 'luks', 1, ?, null, ?, ?, ?, ?)`);
    const volume = db.prepare(`insert into volumes (id, device_id, ref, name, encrypted, created_at) values (?, ?, 'disk0', 'Data', 1, ?)`);
    const operation = db.prepare(`insert into operations (id, device_id, volume_id, kind, state, failure_cause, candidate_version_id, pending_version_id, requested_by, detail, claimed_at, created_at, updated_at)
      values (?, ?, ?, 'rotate', 'succeeded', null, null, null, ?, null, ?, ?, ?)`);
    db.exec('begin');
    for (let i = 0; i < DEVICES; i++) {
      const deviceId = randomUUID();
      const volumeId = randomUUID();
      device.run(deviceId, orgId, ownerId, `fleet-${i}`, at, `prefilled-credential-${i}`, at, at, at);
      volume.run(volumeId, deviceId, at);
      for (let j = 0; j < OPERATIONS_PER_DEVICE; j++) operation.run(randomUUID(), deviceId, volumeId, ownerId, at, at, at);
    }
    db.exec('commit');
  } finally {
    db.close();
  }
}

/** The filled data directory: made once per schema, then reused. */
async function filledDataDir(): Promise<Built> {
  if (existsSync(builtFile)) return JSON.parse(readFileSync(builtFile, 'utf8')) as Built;
  const started = performance.now();
  const building = mkdtempSync(`${cacheDir}.building-`);
  const first = await startKeywardServer({ port: 0, dataDir: building, quiet: true });
  const org = await first.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const ownerId = await createUser(first.deps, { orgId: org.id, email: 'fleet@bench.test', name: 'Fleet', password: 'fleet-pass', role: 'user' });
  await first.stop();
  fill(sqliteDatabasePath(building), org.id, ownerId);
  // A start indexes the new devices for the console (services/device-index.ts), as it would after an import.
  const second = await startKeywardServer({ port: 0, dataDir: building, quiet: true });
  await second.stop();
  const built: Built = { seconds: (performance.now() - started) / 1000, devices: DEVICES, operations: DEVICES * OPERATIONS_PER_DEVICE };
  writeFileSync(join(building, 'prefilled.json'), JSON.stringify(built));
  renameSync(building, cacheDir);
  return built;
}

const built = await filledDataDir();
const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-prefilled-run-'));
try {
  const copyStarted = performance.now();
  cpSync(cacheDir, dataDir, { recursive: true });
  const copySeconds = (performance.now() - copyStarted) / 1000;
  const server = await startKeywardServer({ port: 0, dataDir, quiet: true, config: benchConfig });
  try {
    const f = await prepare(server.deps);
    const url = server.url;
    await runWrk({ url, requests: revealRequests(f), connections: CONNECTIONS, durationMs: WARMUP_MS });
    const store = await runWrk({ url, requests: storeRequests(f), connections: CONNECTIONS, durationMs: DURATION_MS });
    const reveal = await runWrk({ url, requests: revealRequests(f), connections: CONNECTIONS, durationMs: DURATION_MS });
    const note = `SQLite pre-filled with ${built.devices.toLocaleString('en')} devices and ${built.operations.toLocaleString('en')} operations (filled once per schema in ${Math.round(built.seconds)} s, kept in ${cacheDir}; copied for this run in ${copySeconds.toFixed(1)} s); compare with service_*_rps`;
    reportValue('service_store_rps_prefilled', store.rps, 'req/s', `${note}; ${describeRun(store, CONNECTIONS, DURATION_MS)}`);
    reportValue('service_reveal_rps_prefilled', reveal.rps, 'req/s', `${note}; ${describeRun(reveal, CONNECTIONS, DURATION_MS)}`);
  } finally {
    await server.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
