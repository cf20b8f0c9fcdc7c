/**
 * Escrow service throughput over HTTP on 127.0.0.1, driven by `wrk` (wrk.ts) with 64
 * keep-alive connections: storing keys and revealing keys on SQLite and PostgreSQL, reveal
 * latency with 16 connections, and the ceilings they compare with, measured with the same
 * generator — a bare Node HTTP handler, and the same handler committing one durable SQLite row
 * per request (WAL, synchronous=FULL). Each figure runs for a bounded time.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { openSqliteFile } from '../../server/db/sqlite-dialect.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { uploadProtectors } from '../../server/services/agent-report.ts';
import { EXTENSION_CLIENT_ID, exchangeAuthorizationCode, issueAuthorizationCode } from '../../server/auth/oauth.ts';
import { CHROME_REDIRECT_URI } from '../../lib/extension-identity.ts';
import { generateRecoveryKey, formatRecoveryKey } from '../../lib/keys/index.ts';
import { reportValue } from './stats.ts';
import { runWrk, type WrkRequest, type WrkResult } from './wrk.ts';

const CONNECTIONS = 64;
/** The connections `service_reveal_p99_ms` is measured with: with 64 closed-loop clients the mean alone is 64 / throughput. */
const LATENCY_CONNECTIONS = 16;
const DURATION_MS = Number(process.env.KEYWARD_BENCH_MS ?? 6000);
const WARMUP_MS = 1000;
const PG_URL = process.env.KEYWARD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const DEVICES = 64;

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

function storeRequests(f: Fixture): WrkRequest[] {
  return f.devices.map((id) => {
    const key = formatRecoveryKey('filevault', generateRecoveryKey('filevault'));
    return { path: `/api/v1/devices/${id}/keys`, method: 'POST', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ key, confirmKey: key }) };
  });
}

function revealRequests(f: Fixture): WrkRequest[] {
  return f.devices.map((id) => ({ path: `/api/v1/devices/${id}/reveal`, method: 'POST', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' }, body: '{}' }));
}

function describe(r: WrkResult, connections: number): string {
  return `wrk ${connections} connections, ${Math.round(DURATION_MS / 1000)} s; ${r.requests} requests, ${r.errors} errors; p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`;
}

async function benchService(label: '' | '_pg', server: KeywardServer, note: string): Promise<void> {
  const f = await prepare(server);
  const url = server.url;
  // A short warm-up so the figures are not the JIT's.
  await runWrk({ url, requests: revealRequests(f), connections: CONNECTIONS, durationMs: WARMUP_MS });
  const store = await runWrk({ url, requests: storeRequests(f), connections: CONNECTIONS, durationMs: DURATION_MS });
  reportValue(`service_store_rps${label}`, store.rps, 'req/s', `${note}; ${describe(store, CONNECTIONS)}`);
  const reveal = await runWrk({ url, requests: revealRequests(f), connections: CONNECTIONS, durationMs: DURATION_MS });
  reportValue(`service_reveal_rps${label}`, reveal.rps, 'req/s', `${note}; ${describe(reveal, CONNECTIONS)}`);
  reportValue(`service_reveal_p99_ms_64${label}`, reveal.p99Ms, 'ms', `${note}; information only: with ${CONNECTIONS} closed-loop connections the mean alone is ${CONNECTIONS} / throughput`);
  const reveal16 = await runWrk({ url, requests: revealRequests(f), connections: LATENCY_CONNECTIONS, durationMs: DURATION_MS });
  reportValue(`service_reveal_p99_ms${label}`, reveal16.p99Ms, 'ms', `${note}; ${describe(reveal16, LATENCY_CONNECTIONS)}; ${Math.round(reveal16.rps)} req/s`);
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

/** Serves `handle` on a bare node:http server on 127.0.0.1 and drives it with wrk. */
async function bareCeiling(handle: () => void): Promise<WrkResult> {
  const body = JSON.stringify({ ok: true });
  const server = createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      handle();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    const plan = { url: `http://127.0.0.1:${port}`, requests: [{ path: '/', method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{}' }], connections: CONNECTIONS };
    await runWrk({ ...plan, durationMs: WARMUP_MS });
    return await runWrk({ ...plan, durationMs: DURATION_MS });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function httpCeiling(): Promise<void> {
  const r = await bareCeiling(() => undefined);
  reportValue('http_ceiling_rps', r.rps, 'req/s', `bare node:http handler reading a JSON POST; ${describe(r, CONNECTIONS)}`);
}

/** The same bare handler, each request committing one row (WAL, synchronous=FULL) before it answers. */
async function sqliteCommitCeiling(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-commit-'));
  const db = openSqliteFile(join(dir, 'ceiling.db'));
  try {
    db.exec('create table t (id integer primary key, v text not null)');
    const insert = db.prepare('insert into t (v) values (?)');
    const r = await bareCeiling(() => void insert.run(randomBytes(16).toString('hex')));
    reportValue('sqlite_commit_ceiling_rps', r.rps, 'commits/s', `bare node:http handler, one-row autocommit insert per request, WAL synchronous=FULL, node:sqlite; ${describe(r, CONNECTIONS)}`);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await sqliteService();
await postgresService();
await httpCeiling();
await sqliteCommitCeiling();
