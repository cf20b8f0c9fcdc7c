#!/usr/bin/env node
/**
 * keyward-agent: the device agent's command line.
 *   keyward-agent enroll --server URL --token T [--driver simulated|luks|filevault|bitlocker]
 *                        [--volume REF]... [--kind filevault|bitlocker|luks] [--name NAME]
 *                        [--user MACOS_USER] [--upload-existing] [--state-dir DIR]
 *   keyward-agent run [--once] [--state-dir DIR]
 *   keyward-agent status [--state-dir DIR]
 * Keys and the device credential are never printed. KEYWARD_AGENT_CRASH_AFTER_STEP=<step> kills
 * the process right after that rotation step (fault injection for crash-repair tests).
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { KeyKind } from '../lib/api/contract.ts';
import { generateRecoveryKey } from '../lib/keys/index.ts';
import { Agent } from './agent.ts';
import { AgentNetworkError, backoffMs, DEFAULT_RETRY, enrollDevice, httpAgentApi, sleep } from './api-client.ts';
import { createDriver, KIND_OF_DRIVER, PLATFORM_OF_KIND } from './drivers/create-driver.ts';
import type { DiskDriver, DriverName } from './drivers/driver.ts';
import { createSimulatedVolume, SIMULATED_LABEL } from './drivers/simulated.ts';
import { stderrLog, type Log } from './log.ts';
import { AgentState, defaultStateDir, type AgentConfig } from './state.ts';

const DRIVERS: readonly DriverName[] = ['simulated', 'luks', 'filevault', 'bitlocker'];

const USAGE = `usage:
  keyward-agent enroll --server URL --token TOKEN [--driver simulated|luks|filevault|bitlocker]
                       [--volume REF]... [--kind filevault|bitlocker|luks] [--name NAME]
                       [--user MACOS_USER] [--upload-existing] [--state-dir DIR]
                       [--test-fast-kdf]   (LUKS throw-away test containers only: PBKDF2, 1000 iterations)
  keyward-agent run [--once] [--state-dir DIR]
  keyward-agent status [--state-dir DIR]
environment: KEYWARD_AGENT_CRASH_AFTER_STEP=escrowed|added|verified|completed kills the agent
  right after that rotation step (fault injection for testing crash repair).`;

class UsageError extends Error {}

/** The SIMULATED driver labels its own lines; the agent's lines are labelled here. */
function driverFor(config: AgentConfig, state: AgentState): DiskDriver {
  return createDriver({ ...config, simulatedDir: state.simulatedVolumesDir }, stderrLog());
}

function agentLog(driver: DriverName): Log {
  return stderrLog(driver === 'simulated' ? `keyward-agent [${SIMULATED_LABEL}]` : 'keyward-agent');
}

async function enroll(values: Record<string, string | boolean | string[] | undefined>, state: AgentState, log: Log): Promise<void> {
  const server = values.server;
  const token = values.token;
  if (typeof server !== 'string' || typeof token !== 'string') throw new UsageError('enroll needs --server and --token');
  const driverName = (values.driver ?? 'luks') as DriverName;
  if (!DRIVERS.includes(driverName)) throw new UsageError(`unknown driver ${String(driverName)}`);
  const keyKind = driverName === 'simulated' ? KeyKind.parse(values.kind ?? 'luks') : KIND_OF_DRIVER[driverName];
  const volumes = (values.volume as string[] | undefined) ?? [];
  if (driverName === 'luks' && volumes.length === 0) throw new UsageError('the luks driver needs --volume /path/to/device (repeatable)');
  const config: AgentConfig = {
    serverUrl: new URL(server).toString(),
    deviceId: '',
    name: typeof values.name === 'string' ? values.name : hostname(),
    platform: PLATFORM_OF_KIND[keyKind],
    keyKind,
    driver: driverName,
    volumes,
    fastKdfForTests: values['test-fast-kdf'] === true,
    ...(typeof values.user === 'string' ? { username: values.user } : {}),
    uploadedVolumes: [],
    enrolledAt: new Date().toISOString(),
  };
  if (driverName === 'simulated') {
    for (const ref of volumes.length > 0 ? volumes : ['sim0']) {
      createSimulatedVolume(state.simulatedVolumesDir, { ref, name: `${SIMULATED_LABEL} ${ref}`, keyKind, key: generateRecoveryKey(keyKind) });
    }
  }
  const driver = driverFor(config, state);
  const reports = await new Agent({ api: httpAgentApi({ serverUrl: config.serverUrl, credential: '' }), driver, journal: state.journal }).volumeReports();
  const enrolled = await enrollDevice(config.serverUrl, { token, name: config.name, platform: config.platform, keyKind, volumes: reports });
  state.writeCredential(enrolled.credential);
  config.deviceId = enrolled.deviceId;
  state.writeConfig(config);
  console.log(`enrolled: device ${enrolled.deviceId} at ${config.serverUrl} (driver ${driverLabel(driverName)})`);
  if (values['upload-existing'] === true || driverName === 'bitlocker') {
    const agent = new Agent({ api: httpAgentApi({ serverUrl: config.serverUrl, credential: enrolled.credential }), driver, journal: state.journal, log });
    for (const report of reports.filter((r) => r.encrypted)) {
      const count = await agent.uploadExistingKeys(report.ref);
      if (count > 0) config.uploadedVolumes.push(report.ref);
    }
    state.writeConfig(config);
  }
}

function loadAgent(state: AgentState, log: Log): { config: AgentConfig; agent: Agent } {
  const config = state.readConfig();
  const credential = state.readCredential();
  if (!config || !credential) throw new UsageError(`not enrolled (no state in ${state.dir}); run keyward-agent enroll first`);
  const agent = new Agent({
    api: httpAgentApi({ serverUrl: config.serverUrl, credential }),
    driver: driverFor(config, state),
    journal: state.journal,
    log,
    onStep: (step, operationId) => {
      log(`operation ${operationId}: step ${step} done`);
      if (process.env.KEYWARD_AGENT_CRASH_AFTER_STEP === step) {
        // Fault injection for crash-repair tests: die at once, like a power cut.
        log(`KEYWARD_AGENT_CRASH_AFTER_STEP=${step}: killing the agent now`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  });
  return { config, agent };
}

async function run(once: boolean, state: AgentState, log: Log): Promise<void> {
  const { agent } = loadAgent(state, log);
  let stopping = false;
  let wake: () => void = () => undefined;
  const stop = () => {
    stopping = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let failures = 0;
  while (!stopping) {
    let waitMs: number;
    try {
      const result = await agent.checkInOnce();
      failures = 0;
      log(`checked in: ${result.tasks} task(s)`);
      if (once) return;
      waitMs = Math.max(5, result.nextCheckinSeconds) * 1000;
    } catch (error) {
      if (once) throw error;
      // Keep running: the service may be down (network) or the disk busy; unfinished work is journaled.
      failures += 1;
      waitMs = backoffMs({ ...DEFAULT_RETRY, maxDelayMs: 300_000 }, failures + DEFAULT_RETRY.attempts);
      const what = error instanceof AgentNetworkError ? error.message : `check-in failed: ${error instanceof Error ? error.message : String(error)}`;
      log(`${what}; next try in ${Math.round(waitMs / 1000)} s`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

async function status(state: AgentState, log: Log): Promise<void> {
  const { config, agent } = loadAgent(state, log);
  console.log(`server:    ${config.serverUrl}`);
  console.log(`device:    ${config.deviceId} (${config.name}, ${config.platform})`);
  console.log(`driver:    ${driverLabel(config.driver)}, ${config.keyKind} keys`);
  console.log(`state dir: ${state.dir}`);
  for (const volume of await agent.volumeReports()) {
    console.log(`volume:    ${volume.name} [${volume.ref}] ${volume.encrypted ? 'encrypted' : 'NOT encrypted'}${config.driver === 'simulated' ? ` (${SIMULATED_LABEL})` : ''}`);
  }
  const unfinished = state.journal.list();
  console.log(unfinished.length === 0 ? 'rotations: none unfinished' : `rotations: ${unfinished.length} unfinished (${unfinished.map((e) => e.operationId).join(', ')}); the next run continues them`);
}

function driverLabel(driver: DriverName): string {
  return driver === 'simulated' ? `${SIMULATED_LABEL} (fake volumes, not a real disk)` : driver;
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      driver: { type: 'string' },
      volume: { type: 'string', multiple: true },
      kind: { type: 'string' },
      name: { type: 'string' },
      user: { type: 'string' },
      'upload-existing': { type: 'boolean' },
      'test-fast-kdf': { type: 'boolean' },
      'state-dir': { type: 'string' },
      once: { type: 'boolean' },
    },
  });
  const state = new AgentState(values['state-dir'] ?? defaultStateDir());
  const enrolledDriver = state.readConfig()?.driver;
  const log = agentLog(positionals[0] === 'enroll' ? ((values.driver ?? 'luks') as DriverName) : (enrolledDriver ?? 'luks'));
  switch (positionals[0]) {
    case 'enroll':
      return enroll(values, state, log);
    case 'run':
      return run(values.once === true, state, log);
    case 'status':
      return status(state, log);
    default:
      throw new UsageError(positionals[0] ? `unknown command ${positionals[0]}` : 'no command given');
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`keyward-agent: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`keyward-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
