/**
 * `startKeywardServer(options)`: opens the database (SQLite under `dataDir`, or PostgreSQL),
 * loads or creates the KEK, seeds the demo when asked, serves the app on 127.0.0.1, and
 * optionally runs the simulated device fleet against it. Returns a handle with `stop()`.
 */
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Kysely } from 'kysely';
import { createApp } from './app.ts';
import { defaultConfig, systemClock, type AppConfig, type AppDeps, type Clock } from './deps.ts';
import { openDatabase } from './db/open.ts';
import type { Database } from './db/schema.ts';
import { kekBackupWarning, loadOrCreateKekFile, loadPreviousKeks, type Kek } from './crypto/kek.ts';
import { DEMO_USERS, seedDemo, ensureOrg } from './seed.ts';
import { demoDeviceSpecs } from './demo-fleet.ts';
import { startSimulatedFleet, type SimulatedFleet } from '../agent/simulated-fleet.ts';
import { destroyExpiredKeyVersions } from './services/retention.ts';

export type KeywardServerOptions = {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  /** PostgreSQL: confine the service to this schema (tests). */
  pgSchema?: string;
  demo?: boolean;
  simulatedAgents?: boolean;
  checkinIntervalMs?: number;
  kek?: Kek;
  clock?: Clock;
  config?: Partial<AppConfig>;
  /** Print nothing (tests). */
  quiet?: boolean;
};

export type KeywardServer = {
  url: string;
  port: number;
  db: Kysely<Database>;
  deps: AppDeps;
  fleet: SimulatedFleet | null;
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
  const dataDir = options.dataDir ?? './data';
  const opened = await openDatabase({ dataDir, databaseUrl: options.databaseUrl, pgSchema: options.pgSchema });
  let kek = options.kek;
  let previousKeks: Kek[] = [];
  if (!kek) {
    const loaded = loadOrCreateKekFile(dataDir);
    if (loaded.created && !options.quiet) console.warn(kekBackupWarning(loaded.path));
    kek = loaded.kek;
    previousKeks = loadPreviousKeks(dataDir, kek);
  }
  const config: AppConfig = { ...defaultConfig, ...options.config };
  if (options.simulatedAgents) config.agentCheckinSeconds = Math.max(1, Math.round((options.checkinIntervalMs ?? 1000) / 1000));
  const deps: AppDeps = { db: opened.db, dbKind: opened.kind, kek, previousKeks, clock: options.clock ?? systemClock, config };

  if (options.demo) {
    const seed = await seedDemo(deps);
    say(seed.created ? 'keyward: demo organisation "Demo Org" created' : 'keyward: demo organisation already present (nothing seeded again)');
    for (const u of Object.values(DEMO_USERS)) say(`keyward: demo sign-in (${u.role}): ${u.email} / ${u.password}`);
  } else {
    await ensureOrg(deps, { name: 'Keyward', supportContact: 'your IT support' });
  }

  const purge = () => destroyExpiredKeyVersions(deps, config.retiredRetentionDays).catch((error: unknown) => {
    console.error('keyward: destroying expired key versions failed:', error instanceof Error ? error.message : String(error));
    return 0;
  });
  await purge();
  const purgeTimer = setInterval(() => void purge(), 3_600_000);
  purgeTimer.unref();

  const app = createApp(deps);
  const host = options.host ?? '127.0.0.1';
  const server = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host });
  const port = await listen(server);
  const url = `http://${host}:${port}`;
  say(`keyward: serving ${url} (database: ${opened.location})`);

  let fleet: SimulatedFleet | null = null;
  if (options.simulatedAgents) {
    fleet = await startSimulatedFleet({
      serverUrl: url,
      stateDir: join(dataDir, 'agents'),
      devices: demoDeviceSpecs(),
      checkinIntervalMs: options.checkinIntervalMs ?? 1000,
    });
  }

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(purgeTimer);
      if (fleet) await fleet.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') server.closeAllConnections();
      });
      await opened.close();
    })();
    return stopping;
  };
  return { url, port, db: opened.db, deps, fleet, stop };
}
