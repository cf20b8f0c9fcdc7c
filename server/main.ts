/**
 * `startKeywardServer(options)`: opens the database (SQLite under `dataDir`, or PostgreSQL),
 * loads or creates the KEK and the audit key (each in its own file, by default in `dataDir`),
 * checks the audit chain's head (sealing a log from before keyed hashes once), seeds the demo
 * when asked, writes signed audit checkpoints and serves the app on 127.0.0.1. Returns a
 * handle with `stop()`. (The demo's simulated devices are started beside it by
 * scripts/demo-fleet.ts; the service never imports the agent.)
 */
import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';
import { isLoopbackHost, plainHttpWarning, readTlsPair, type TlsFiles, type TlsPair } from './tls.ts';
import type { Kysely } from 'kysely';
import { createApp } from './app.ts';
import { defaultConfig, nowIso, systemClock, type AppConfig, type AppDeps, type Clock } from './deps.ts';
import { openDatabase } from './db/open.ts';
import type { Database } from './db/schema.ts';
import { defaultKekPath, kekBackupWarning, loadOrCreateKekFile, loadPreviousKeks, type Kek } from './crypto/kek.ts';
import { auditKeyBackupWarning, defaultAuditKeyPath, loadOrCreateAuditKeyFile, type AuditKey } from './crypto/audit-key.ts';
import { defaultCheckpointPath, defaultInstanceName, startCheckpointWriter, type CheckpointWriter } from './audit-checkpoints.ts';
import { checkAuditChainAtStart } from './audit-seal.ts';
import { startAuditChainer } from './audit-chain.ts';
import { missingKekProblem, recordCurrentKek, startKekRingWatcher } from './kek-ring.ts';
import { ensureDirExists, ensurePrivateDir, ensurePrivateFile } from './private-files.ts';
import { DEMO_USERS, seedDemo, ensureOrg } from './seed.ts';
import { activeDemoAccounts } from './demo-accounts.ts';
import { destroyExpiredKeyVersions, pruneFinishedOperations } from './services/retention.ts';
import { refreshDeviceIndex } from './services/device-index.ts';
import { cachedLookups } from './db/lookup-cache.ts';

export type KeywardServerOptions = {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  /** PostgreSQL: confine the service to this schema (tests). */
  pgSchema?: string;
  demo?: boolean;
  kek?: Kek;
  /** The KEK file when `kek` is not given (default `<dataDir>/kek.key`). */
  kekFile?: string;
  auditKey?: AuditKey;
  /** The audit key file when `auditKey` is not given (default `<dataDir>/audit.key`). */
  auditKeyFile?: string;
  /** Where this instance appends its signed audit checkpoints (default `<dataDir>/audit-checkpoints.jsonl`). */
  auditCheckpointFile?: string;
  /** Also print each checkpoint as one line on stdout (for syslog/journald). */
  auditCheckpointStdout?: boolean;
  /** How often the head is checkpointed when it has moved (default 5 s). */
  auditCheckpointIntervalMs?: number;
  /** Serve HTTPS with this PEM certificate (chain) and key; both re-read on `reload()` (SIGHUP). */
  tls?: TlsFiles;
  /** How often the KEK ring's files are checked for changes (default 2 s). */
  kekReloadIntervalMs?: number;
  /** Names this instance in its checkpoints and KEK records (default `<hostname>/<pid>`). */
  instance?: string;
  clock?: Clock;
  config?: Partial<AppConfig>;
  /** Print nothing but audit alarms (tests). */
  quiet?: boolean;
  /** Where warnings and audit alarms go, one line each (default stderr). */
  alert?: (line: string) => void;
};

export type KeywardServer = {
  url: string;
  port: number;
  db: Kysely<Database>;
  deps: AppDeps;
  auditCheckpoints: CheckpointWriter;
  /** Re-reads the KEK ring (SIGHUP). */
  reloadKeks(): void;
  /** SIGHUP: re-reads the KEK ring and the TLS certificate; returns one line per problem. */
  reload(): string[];
  stop(): Promise<void>;
};

function listen(server: ServerType): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

export async function startKeywardServer(options: KeywardServerOptions = {}): Promise<KeywardServer> {
  const say = (line: string) => {
    if (!options.quiet) console.log(line);
  };
  const alert = options.alert ?? ((line: string) => console.error(line));
  const warn = (line: string) => {
    if (!options.quiet) alert(line);
  };
  const dataDir = options.dataDir ?? './data';
  // Checked before anything else starts: a wrong path or a key that does not fit fails in one line.
  let tlsPair: TlsPair | null = null;
  if (options.tls) {
    try {
      tlsPair = readTlsPair(options.tls);
    } catch (error) {
      throw new Error(`cannot use the TLS certificate ${options.tls.certFile} with the key ${options.tls.keyFile}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  // Also with PostgreSQL: the directory holds the key files and the checkpoints by default.
  ensurePrivateDir(dataDir);
  const opened = await openDatabase({ dataDir, databaseUrl: options.databaseUrl, pgSchema: options.pgSchema });
  const keyFiles: { label: string; path: string }[] = [];
  let kek = options.kek;
  let previousKeks: Kek[] = [];
  let kekPath: string | null = null;
  if (!kek) {
    const loaded = loadOrCreateKekFile(options.kekFile ?? defaultKekPath(dataDir));
    if (loaded.created) warn(kekBackupWarning(loaded.path));
    kek = loaded.kek;
    previousKeks = loadPreviousKeks(loaded.path, kek);
    kekPath = loaded.path;
    keyFiles.push({ label: 'the KEK file', path: loaded.path });
  }
  let auditKey = options.auditKey;
  if (!auditKey) {
    const loaded = loadOrCreateAuditKeyFile(options.auditKeyFile ?? defaultAuditKeyPath(dataDir));
    if (loaded.created) warn(auditKeyBackupWarning(loaded.path));
    auditKey = loaded.auditKey;
    keyFiles.push({ label: 'the audit key file', path: loaded.path });
  }
  const checkpointPath = options.auditCheckpointFile ?? defaultCheckpointPath(dataDir);
  ensureDirExists(dirname(checkpointPath));
  ensurePrivateFile(checkpointPath);
  if (!options.demo && opened.kind === 'sqlite') {
    const beside = keyFiles.filter((f) => realpathSync(dirname(f.path)) === realpathSync(dataDir));
    if (beside.length > 0) {
      warn(`keyward: warning: ${beside.map((f) => `${f.label} (${basename(f.path)})`).join(' and ')} ${beside.length > 1 ? 'are' : 'is'} in the database's directory ${dataDir}, so one backup or copy of it holds the keys with the data; keep them apart with --kek-file / --audit-key-file (KEYWARD_KEK_FILE / KEYWARD_AUDIT_KEY_FILE)`);
    }
  }
  const config: AppConfig = { ...defaultConfig, ...options.config };
  const deps: AppDeps = { ...cachedLookups(opened.db, opened.kind), dbKind: opened.kind, kek, previousKeks, auditKey, clock: options.clock ?? systemClock, config };
  await checkAuditChainAtStart(deps, { checkpointPath, at: nowIso(deps), say, alert });
  await recordCurrentKek(deps, nowIso(deps));
  const kekProblem = await missingKekProblem(deps, kekPath ?? 'the KEK given');
  if (kekProblem) {
    await opened.close();
    throw new Error(kekProblem);
  }
  const kekRing = kekPath ? await startKekRingWatcher(deps, { kekPath, instance: options.instance, intervalMs: options.kekReloadIntervalMs, alert }) : null;

  if (options.demo) {
    const seed = await seedDemo(deps);
    say(seed.created ? 'keyward: demo organisation "Demo Org" created' : 'keyward: demo organisation already present (nothing seeded again)');
    for (const u of Object.values(DEMO_USERS)) say(`keyward: demo sign-in (${u.role}): ${u.email} / ${u.password}`);
  } else {
    const demoAccounts = await activeDemoAccounts(deps);
    if (demoAccounts.length > 0) {
      await kekRing?.stop();
      await opened.close();
      throw new Error(`this database still has the demo accounts (${demoAccounts.join(', ')}), whose passwords are published: remove them with keyward demo-remove (same --data/--database), or start with --demo`);
    }
    await ensureOrg(deps, { name: 'Keyward', supportContact: 'your IT support' });
    const admin = await deps.db.selectFrom('users').select('id').where('role', '=', 'admin').where('password_hash', '!=', '').limit(1).executeTakeFirst();
    if (!admin) warn(`keyward: nobody can sign in yet: create the organisation's first admin with keyward init --org NAME --email EMAIL --name NAME${options.dataDir ? ` --data ${dataDir}` : ''}${options.databaseUrl ? ' --database …' : ''}`);
  }

  // Devices from before the device index (or changed while no instance ran) are indexed now, not on the first console visit.
  await refreshDeviceIndex(deps);

  const purge = async () => {
    await destroyExpiredKeyVersions(deps, config.retiredRetentionDays).catch((error: unknown) => {
      console.error('keyward: destroying expired key versions failed:', error instanceof Error ? error.message : String(error));
    });
    await pruneFinishedOperations(deps, config.finishedOperationRetentionDays).catch((error: unknown) => {
      console.error('keyward: pruning finished operations failed:', error instanceof Error ? error.message : String(error));
    });
  };
  await purge();
  const purgeTimer = setInterval(() => void purge(), 3_600_000);
  purgeTimer.unref();

  const auditCheckpoints = await startCheckpointWriter({
    deps,
    path: checkpointPath,
    instance: options.instance ?? defaultInstanceName(),
    intervalMs: options.auditCheckpointIntervalMs ?? 5_000,
    alert,
    ...(options.auditCheckpointStdout ? { print: (line: string) => console.log(line) } : {}),
  });
  // PostgreSQL: events are linked into the audit chain after they commit (audit-chain.ts).
  const auditChainer = opened.kind === 'postgres' ? startAuditChainer(deps, alert) : null;
  say(`keyward: audit checkpoints in ${checkpointPath}, signed with Ed25519 public key ${auditKey.publicKey}`);

  const app = createApp(deps);
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls;
  const server = tls
    ? serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host, createServer: createHttpsServer, serverOptions: tlsPair ?? readTlsPair(tls) })
    : serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host });
  let port: number;
  try {
    port = await listen(server);
  } catch (error) {
    clearInterval(purgeTimer);
    await auditChainer?.stop();
    await auditCheckpoints.stop().catch(() => undefined);
    await kekRing?.stop();
    await opened.close();
    const code = error instanceof Error && 'code' in error ? error.code : '';
    if (code === 'EADDRINUSE') throw new Error(`port ${options.port ?? 8787} on ${host} is already in use (another Keyward or another service); choose another with --port N`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`${host} is not an address of this machine; choose another with --host`);
    if (code === 'EACCES') throw new Error(`not allowed to listen on port ${options.port ?? 8787}; ports below 1024 need privileges: choose --port 8787 (or another above 1023) and forward to it`);
    throw error;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `${tls ? 'https' : 'http'}://${urlHost}:${port}`;
  say(`keyward: serving ${url} (database: ${opened.location})`);
  if (!tls && !isLoopbackHost(host)) warn(plainHttpWarning(host, port));
  const reloadTls = (): string[] => {
    if (!tls) return [];
    try {
      const pair = readTlsPair(tls);
      if ('setSecureContext' in server && typeof server.setSecureContext === 'function') server.setSecureContext(pair);
      say(`keyward: TLS certificate reloaded from ${tls.certFile}`);
      return [];
    } catch (error) {
      return [`keyward: the TLS certificate was not reloaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); still serving the previous one`];
    }
  };

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(purgeTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') server.closeAllConnections();
      });
      await auditChainer?.stop();
      await auditCheckpoints.stop().catch((error: unknown) => {
        alert(`keyward: writing the last audit checkpoint failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      await kekRing?.stop();
      await opened.close();
    })();
    return stopping;
  };
  return { url, port, db: deps.db, deps, auditCheckpoints, reloadKeks: () => void kekRing?.reload(),
    reload: () => {
      kekRing?.reload();
      const problems = reloadTls();
      for (const line of problems) alert(line);
      return problems;
    },
    stop,
  };
}
