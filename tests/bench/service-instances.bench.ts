/**
 * Two service instances on one PostgreSQL (`_pg2`): each in its own process, sharing the KEK
 * and audit key files, driven by two `wrk` processes at once (32 connections each, 64 in all,
 * each on half of the devices), storing and revealing keys. The same is measured first with one instance process and 64
 * connections, in the same run, so the note gives the ratio (one machine: the instances, wrk
 * and PostgreSQL share its cores).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startKeywardServer } from '../../server/main.ts';
import { openDatabase } from '../../server/db/open.ts';
import { loadOrCreateKekFile } from '../../server/crypto/kek.ts';
import { loadOrCreateAuditKeyFile } from '../../server/crypto/audit-key.ts';
import { defaultConfig, systemClock } from '../../server/deps.ts';
import { ensureOrg } from '../../server/seed.ts';
import { reportValue } from './stats.ts';
import { runWrk, type WrkRequest, type WrkResult } from './wrk.ts';
import { benchConfig, prepare, revealRequests, storeRequests } from './service-fixture.ts';

const CONNECTIONS = 64;
const DURATION_MS = Number(process.env.KEYWARD_BENCH_MS ?? 6000);
const WARMUP_MS = 1000;
const PG_URL = process.env.KEYWARD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

type Files = { dataDir: string; databaseUrl: string; kekFile: string; auditKeyFile: string };

if (process.argv[2] === '--serve') {
  const [dataDir, databaseUrl, kekFile, auditKeyFile] = process.argv.slice(3);
  const server = await startKeywardServer({ port: 0, dataDir, databaseUrl, kekFile, auditKeyFile, quiet: true, config: benchConfig });
  process.stdout.write(`${server.url}\n`);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
} else {
  await bench().catch((error: unknown) => {
    console.log(JSON.stringify({ metric: 'service_pg2_skipped', note: error instanceof Error ? error.message : String(error) }));
  });
}

function startInstance(files: Files, dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', dataDir, files.databaseUrl, files.kekFile, files.auditKeyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').once('data', (line: string) => resolve({ child, url: line.trim() }));
    child.once('exit', (code) => reject(new Error(`service instance exited (${code})`)));
  });
}

async function stopInstance(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Drives each URL with its own wrk process at once, each on its own share of the devices (as
 * different people's requests would be: one device's rows are locked by one request at a time);
 * the totals are summed, the latencies the worst.
 */
async function drive(urls: string[], requests: WrkRequest[], durationMs: number): Promise<WrkResult> {
  const connections = CONNECTIONS / urls.length;
  const share = Math.ceil(requests.length / urls.length);
  const runs = await Promise.all(urls.map((url, i) => runWrk({ url, requests: requests.slice(i * share, (i + 1) * share), connections, durationMs })));
  return {
    rps: runs.reduce((sum, r) => sum + r.rps, 0),
    requests: runs.reduce((sum, r) => sum + r.requests, 0),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    meanMs: Math.max(...runs.map((r) => r.meanMs)),
  };
}

async function bench(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'keyward-bench-pg2-'));
  const database = `kw_bench_pg2_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const instances: ChildProcess[] = [];
  try {
    await admin.query(`create database ${database}`);
    const url = new URL(PG_URL);
    url.pathname = `/${database}`;
    const files: Files = { dataDir: root, databaseUrl: url.toString(), kekFile: join(root, 'kek.key'), auditKeyFile: join(root, 'audit.key') };
    const opened = await openDatabase({ databaseUrl: files.databaseUrl });
    const deps = { db: opened.db, dbKind: opened.kind, kek: loadOrCreateKekFile(files.kekFile).kek, auditKey: loadOrCreateAuditKeyFile(files.auditKeyFile).auditKey, clock: systemClock, config: defaultConfig };
    await ensureOrg(deps, { name: 'Bench Org', supportContact: 'it@bench.test' });
    const f = await prepare(deps);
    await opened.close();

    const first = await startInstance(files, mkdtempSync(join(root, 'a-')));
    instances.push(first.child);
    await drive([first.url], revealRequests(f), WARMUP_MS);
    const storeOne = await drive([first.url], storeRequests(f), DURATION_MS);
    const revealOne = await drive([first.url], revealRequests(f), DURATION_MS);

    const second = await startInstance(files, mkdtempSync(join(root, 'b-')));
    instances.push(second.child);
    const both = [first.url, second.url];
    await drive(both, revealRequests(f), WARMUP_MS);
    const storeTwo = await drive(both, storeRequests(f), DURATION_MS);
    const revealTwo = await drive(both, revealRequests(f), DURATION_MS);

    const note = (two: WrkResult, one: WrkResult) =>
      `two instance processes on one PostgreSQL, two wrk processes of ${CONNECTIONS / 2} connections, ${Math.round(DURATION_MS / 1000)} s; ${two.requests} requests, ${two.errors} errors; p99 ${two.p99Ms.toFixed(1)} ms; one instance process with ${CONNECTIONS} connections in the same run: ${Math.round(one.rps)} req/s (${one.errors} errors), ratio ${(two.rps / one.rps).toFixed(2)}; all on one machine`;
    reportValue('service_store_rps_pg2', storeTwo.rps, 'req/s', note(storeTwo, storeOne));
    reportValue('service_reveal_rps_pg2', revealTwo.rps, 'req/s', note(revealTwo, revealOne));
  } finally {
    for (const child of instances) await stopInstance(child);
    await admin.query(`drop database if exists ${database} with (force)`).catch(() => undefined);
    await admin.end();
    rmSync(root, { recursive: true, force: true });
  }
}
