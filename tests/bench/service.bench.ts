/**
 * Escrow service throughput over HTTP on 127.0.0.1 with 64 concurrent clients (a worker
 * thread generates the load): storing keys and revealing keys on SQLite and PostgreSQL, and
 * the ceilings they compare with — a bare Node HTTP handler and single-row durable SQLite
 * commits (WAL, synchronous=FULL). Each figure runs for a bounded time.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { openSqliteFile } from '../../server/db/sqlite-dialect.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { uploadProtectors } from '../../server/services/agent-report.ts';
import { EXTENSION_CLIENT_ID, exchangeAuthorizationCode, issueAuthorizationCode } from '../../server/auth/oauth.ts';
import { CHROME_REDIRECT_URI } from '../../lib/extension-identity.ts';
import { generateRecoveryKey, formatRecoveryKey } from '../../lib/keys/index.ts';
import { report, reportValue } from './stats.ts';

// The load generator runs in a worker thread (this same file) so it does not share the
// service's event loop: each client sends requests back to back over keep-alive HTTP.
type LoadRequest = { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
type LoadPlan = { requests: LoadRequest[]; concurrency: number; durationMs: number };
type LoadResult = { perSecond: number[]; latenciesMs: number[]; errors: number; statuses: Record<string, number> };

async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const start = performance.now();
  const end = start + plan.durationMs;
  const perSecond: number[] = new Array(Math.ceil(plan.durationMs / 1000)).fill(0);
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  async function client(): Promise<void> {
    while (performance.now() < end) {
      const req = plan.requests[next++ % plan.requests.length];
      const t0 = performance.now();
      try {
        const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 400) errors += 1;
      } catch {
        errors += 1;
      }
      const t1 = performance.now();
      if (t1 <= end) {
        latenciesMs.push(t1 - t0);
        perSecond[Math.floor((t1 - start) / 1000)] += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: plan.concurrency }, () => client()));
  return { perSecond, latenciesMs, errors, statuses };
}

const CONCURRENCY = 64;
const DURATION_MS = Number(process.env.KEYWARD_BENCH_MS ?? 8000);
const PG_URL = process.env.KEYWARD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const DEVICES = 64;

function runInWorker(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: plan });
    worker.once('message', (m: LoadResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * (sorted.length - 1)))] ?? 0;
}

function steadySeconds(r: LoadResult): number[] {
  return r.perSecond.slice(1).filter((n) => n > 0);
}

type Fixture = { server: KeywardServer; token: string; devices: string[] };

async function prepare(server: KeywardServer): Promise<Fixture> {
  const deps = server.deps;
  const org = await deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const userId = await createUser(deps, { orgId: org.id, email: `bench-${randomBytes(4).toString('hex')}@bench.test`, name: 'Bench', password: 'bench-pass', role: 'user' });
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = CHROME_REDIRECT_URI;
  const code = await issueAuthorizationCode(deps, userId, { clientId: EXTENSION_CLIENT_ID, redirectUri, codeChallenge: createHash('sha256').update(verifier).digest('base64url'), state: '' });
  const tokens = await exchangeAuthorizationCode(deps, { code, code_verifier: verifier, redirect_uri: redirectUri, client_id: EXTENSION_CLIENT_ID }, 'bench');
  const devices: string[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const token = await createEnrollmentToken(deps, { ownerId: userId, ownership: 'personal', label: `bench ${i}` });
    const { deviceId } = await enrollDevice(deps, { token, name: `bench mac ${i}`, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'disk1s1', name: 'Macintosh HD', encrypted: true, protectorIds: [] }] }, null);
    const device = await deps.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirstOrThrow();
    await uploadProtectors(deps, device, { volumeRef: 'disk1s1', protectors: [{ protectorId: '', key: generateRecoveryKey('filevault') }] }, 'en');
    devices.push(deviceId);
  }
  return { server, token: tokens.access_token, devices };
}

function storeRequests(f: Fixture): LoadRequest[] {
  return f.devices.map((id) => {
    const key = formatRecoveryKey('filevault', generateRecoveryKey('filevault'));
    return { url: `${f.server.url}/api/v1/devices/${id}/keys`, method: 'POST', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ key, confirmKey: key }) };
  });
}

function revealRequests(f: Fixture): LoadRequest[] {
  return f.devices.map((id) => ({ url: `${f.server.url}/api/v1/devices/${id}/reveal`, method: 'POST', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' }, body: '{}' }));
}

async function benchService(label: '' | '_pg', server: KeywardServer, note: string): Promise<void> {
  const f = await prepare(server);
  const store = await runInWorker({ requests: storeRequests(f), concurrency: CONCURRENCY, durationMs: DURATION_MS });
  report(`service_store_rps${label}`, steadySeconds(store), 'req/s', `${note}; ${CONCURRENCY} clients; ${store.errors} errors`);
  const reveal = await runInWorker({ requests: revealRequests(f), concurrency: CONCURRENCY, durationMs: DURATION_MS });
  report(`service_reveal_rps${label}`, steadySeconds(reveal), 'req/s', `${note}; ${CONCURRENCY} clients; ${reveal.errors} errors`);
  reportValue(`service_reveal_p99_ms${label}`, p99(reveal.latenciesMs), 'ms', `${note}; ${CONCURRENCY} clients; ${reveal.latenciesMs.length} reveals`);
}

const benchConfig = { rateLimits: { loginPerMinute: 10, revealPerMinute: 1_000_000_000 } };

async function sqliteService(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-'));
  const server = await startKeywardServer({ port: 0, dataDir: dir, quiet: true, config: benchConfig });
  try {
    await benchService('', server, 'SQLite WAL synchronous=FULL, HTTP on 127.0.0.1');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresService(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-pg-'));
  const schema = `kw_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  let server: KeywardServer | null = null;
  try {
    server = await startKeywardServer({ port: 0, dataDir: dir, databaseUrl: PG_URL, pgSchema: schema, quiet: true, config: benchConfig });
    await benchService('_pg', server, 'PostgreSQL (pool 10), HTTP on 127.0.0.1');
  } catch (error) {
    console.log(JSON.stringify({ metric: 'service_pg_skipped', note: error instanceof Error ? error.message : String(error) }));
  } finally {
    await server?.stop();
    await dropPostgresSchema(PG_URL, schema).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function httpCeiling(): Promise<void> {
  const body = JSON.stringify({ ok: true });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const r = await runInWorker({ requests: [{ url: `http://127.0.0.1:${port}/`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }], concurrency: CONCURRENCY, durationMs: DURATION_MS });
  report('http_ceiling_rps', steadySeconds(r), 'req/s', `bare node:http handler, ${CONCURRENCY} clients`);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function sqliteCommitCeiling(): void {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-commit-'));
  const db = openSqliteFile(join(dir, 'ceiling.db'));
  db.exec('create table t (id integer primary key, v text not null)');
  const insert = db.prepare('insert into t (v) values (?)');
  const perSecond: number[] = [];
  const start = performance.now();
  let second = 0;
  let count = 0;
  while (performance.now() - start < Math.min(DURATION_MS, 6000)) {
    insert.run(randomBytes(16).toString('hex'));
    count += 1;
    const s = Math.floor((performance.now() - start) / 1000);
    if (s > second) {
      perSecond.push(count);
      count = 0;
      second = s;
    }
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  report('sqlite_commit_ceiling_rps', perSecond, 'commits/s', 'one-row autocommit inserts, WAL synchronous=FULL, node:sqlite');
}

if (isMainThread) {
  await sqliteService();
  await postgresService();
  await httpCeiling();
  sqliteCommitCeiling();
} else if (parentPort) {
  const port = parentPort;
  port.postMessage(await runLoad(workerData as LoadPlan));
}
