/**
 * agent_checkin_rps: check-ins per second the escrow service (SQLite, its own process on
 * 127.0.0.1) sustains from 10,000 simulated agents, each with its own device credential,
 * sending the check-in a running agent sends, driven by `wrk` (wrk.ts) with 64 connections
 * that take the credentials round-robin. The 10,000 devices are registered by a bulk insert of the rows
 * enrollment writes (device with hashed credential + volume), because enrolling 10,000 over
 * HTTP alone takes longer than this bench's ~15 s budget.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../server/db/open.ts';
import { hashToken, randomToken } from '../../server/crypto/secrets.ts';
import { generateKek } from '../../server/crypto/kek.ts';
import { defaultAuditKeyPath, loadOrCreateAuditKeyFile } from '../../server/crypto/audit-key.ts';
import { startKeywardServer } from '../../server/main.ts';
import { createUser, ensureOrg } from '../../server/seed.ts';
import { defaultConfig, systemClock } from '../../server/deps.ts';
import { reportValue } from './stats.ts';
import { runWrk } from './wrk.ts';

const AGENTS = 10_000;
const IN_FLIGHT = 64;
const WARMUP_MS = 1_000;
const MEASURE_MS = 6_000;

if (process.argv[2] === '--serve') {
  const server = await startKeywardServer({ port: 0, dataDir: process.argv[3], quiet: true, kek: generateKek() });
  process.stdout.write(`${server.url}\n`);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
} else {
  await bench();
}

async function registerAgents(dataDir: string): Promise<string[]> {
  const opened = await openDatabase({ dataDir });
  const deps = { db: opened.db, dbKind: opened.kind, kek: generateKek(), auditKey: loadOrCreateAuditKeyFile(defaultAuditKeyPath(dataDir)).auditKey, clock: systemClock, config: defaultConfig };
  const org = await ensureOrg(deps, { name: 'Bench Org', supportContact: 'it@bench.test' });
  const ownerId = await createUser(deps, { orgId: org.id, email: 'owner@bench.test', name: 'Owner', password: 'bench-owner-pass', role: 'user' });
  const at = new Date().toISOString();
  const credentials: string[] = [];
  await opened.db.transaction().execute(async (trx) => {
    for (let start = 0; start < AGENTS; start += 500) {
      const devices = [];
      const volumes = [];
      for (let i = start; i < Math.min(AGENTS, start + 500); i++) {
        const credential = `kwa_${randomToken(32)}`;
        credentials.push(credential);
        const id = randomUUID();
        devices.push({ id, org_id: org.id, owner_id: ownerId, name: `bench-${i}`, ownership: 'corporate', platform: 'linux', key_kind: 'luks', escrow_enabled: 1, last_checkin_at: at, checkin_requested_at: null, agent_credential_hash: hashToken(credential), enrolled_at: at, updated_at: at });
        volumes.push({ id: randomUUID(), device_id: id, ref: 'disk0', name: 'Data', encrypted: 1, created_at: at });
      }
      await trx.insertInto('devices').values(devices).execute();
      await trx.insertInto('volumes').values(volumes).execute();
    }
  });
  await opened.close();
  return credentials;
}

async function bench(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-agent-bench-'));
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const credentials = await registerAgents(dataDir);
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(line.trim()));
      child.once('exit', (code) => reject(new Error(`service exited (${code})`)));
    });
    // What a running agent sends (agent/api-client.ts) for a device with one LUKS volume.
    const body = JSON.stringify({ volumes: [{ ref: 'disk0', name: 'Data', encrypted: true, protectorIds: [] }] });
    const requests = credentials.map((credential) => ({ method: 'POST' as const, path: '/api/v1/agent/checkin', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body }));
    await runWrk({ url, requests, connections: IN_FLIGHT, durationMs: WARMUP_MS });
    const r = await runWrk({ url, requests, connections: IN_FLIGHT, durationMs: MEASURE_MS });
    reportValue('agent_checkin_rps', r.rps, 'req/s', `${AGENTS} device credentials round-robin, wrk ${IN_FLIGHT} connections, ${MEASURE_MS / 1000} s, SQLite, service in its own process on 127.0.0.1; ${r.requests} check-ins, ${r.errors} errors; p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
