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
import { randomBytes } from 'node:crypto';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { openSqliteFile } from '../../server/db/sqlite-dialect.ts';
import { reportValue } from './stats.ts';
import { runWrk, type WrkResult } from './wrk.ts';
import { benchConfig, prepare, revealRequests, storeRequests, describeRun } from './service-fixture.ts';

const CONNECTIONS = 64;
/** The connections `service_reveal_p99_ms` is measured with: with 64 closed-loop clients the mean alone is 64 / throughput. */
const LATENCY_CONNECTIONS = 16;
const DURATION_MS = Number(process.env.KEYWARD_BENCH_MS ?? 6000);
const WARMUP_MS = 1000;
const PG_URL = process.env.KEYWARD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const describe = (r: WrkResult, connections: number) => describeRun(r, connections, DURATION_MS);

async function benchService(label: '' | '_pg', server: KeywardServer, note: string): Promise<void> {
  const f = await prepare(server.deps);
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
