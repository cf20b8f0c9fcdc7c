/**
 * The device agent's command line as a function: `runAgentCli(argv)` parses the command, runs
 * it and sets the exit code (exit-codes.ts); agent/cli.ts is the bin that calls it. Keys,
 * passphrases and the device credential are never printed. The seams are for the tests' own
 * entry only (tests/agent/agent-cli-for-tests.ts); the bin passes none, so nothing on the
 * command line or in the environment reaches them.
 */
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KeyKind } from '../lib/api/contract.ts';
import { generateRecoveryKey } from '../lib/keys/index.ts';
import { Agent, type RotationStep } from './agent.ts';
import { AgentApiError, AgentNetworkError, backoffMs, DEFAULT_RETRY, enrollDevice, httpAgentApi, type AgentApi } from './api-client.ts';
import { HELP, USAGE } from './cli-help.ts';
import { createDriver, KIND_OF_DRIVER, PLATFORM_OF_KIND } from './drivers/create-driver.ts';
import type { DiskDriver, DriverName } from './drivers/driver.ts';
import { DEFAULT_UUID_DIR, LuksDriver } from './drivers/luks.ts';
import { serialNumberReaderFor } from './drivers/serial-number.ts';
import { createSimulatedVolume, SIMULATED_LABEL } from './drivers/simulated.ts';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.ts';
import { collectPassphrases, findLuksVolumes, PrecheckError, requireRoot } from './luks-prechecks.ts';
import { stderrLog, type Log } from './log.ts';
import { passphraseSource } from './passphrase-prompt.ts';
import { checkServerUrl, ServerUrlError } from './server-url.ts';
import { UNIT_NAME, writeServiceUnit } from './service-unit.ts';
import { AgentState, defaultStateDir, type AgentConfig } from './state.ts';
import { lockStateDir, StateLockedError } from './state-lock.ts';

/** Ways into the agent that only tests use; the production bin passes none. */
export type AgentCliSeams = {
  /** cryptsetup KDF arguments for the LUKS key slots the agent adds (default: cryptsetup's own). */
  luksKdfArgs?: readonly string[];
  /** Called right after each journaled rotation step (after it is logged). */
  afterRotationStep?: (step: RotationStep, operationId: string) => void;
};

const DRIVERS: readonly DriverName[] = ['simulated', 'luks', 'filevault', 'bitlocker'];

class UsageError extends Error {}

/** Stops the agent with an exit code and a message already meant for the person. */
class Stop extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** The SIMULATED driver labels its own lines; the agent's lines are labelled here. */
function driverFor(config: AgentConfig, state: AgentState, seams: AgentCliSeams): DiskDriver {
  return createDriver({ ...config, simulatedDir: state.simulatedVolumesDir, luksKdfArgs: seams.luksKdfArgs }, stderrLog());
}

function agentLog(driver: DriverName): Log {
  return stderrLog(driver === 'simulated' ? `keyward-agent [${SIMULATED_LABEL}]` : 'keyward-agent');
}

function apiFor(config: AgentConfig, state: AgentState, credential: string): AgentApi {
  return httpAgentApi({ serverUrl: config.serverUrl, credential, onNewCredential: (next) => state.writeCredential(next) });
}

/** The simulated driver's key kind (`--kind`, default luks). */
function simulatedKind(given: Values['kind']): KeyKind {
  const kind = KeyKind.safeParse(given ?? 'luks');
  if (!kind.success) throw new UsageError(`unknown kind ${String(given)} (filevault, bitlocker or luks)`);
  return kind.data;
}

async function enroll(values: Values, stateDir: string, log: Log, seams: AgentCliSeams): Promise<void> {
  const server = values.server;
  const token = values.token;
  if (typeof server !== 'string' || typeof token !== 'string') throw new UsageError('enroll needs --server and --token');
  const serverUrl = checkServerUrl(server, values['insecure-http'] === true);
  const driverName = (values.driver ?? 'luks') as DriverName;
  if (!DRIVERS.includes(driverName)) throw new UsageError(`unknown driver ${String(driverName)}`);
  const keyKind = driverName === 'simulated' ? simulatedKind(values.kind) : KIND_OF_DRIVER[driverName];
  const volumes = (values.volume as string[] | undefined) ?? [];
  if (driverName === 'luks' && volumes.length === 0) throw new UsageError('the luks driver needs --volume /path/to/device (repeatable)');
  if (driverName === 'luks') requireRoot('keyward-agent enroll');
  if (driverName === 'filevault') requireRoot('keyward-agent enroll --driver filevault', 'fdesetup changes the FileVault recovery key only for root');
  const uuidDir = typeof values['uuid-dir'] === 'string' ? values['uuid-dir'] : undefined;
  const config: AgentConfig = {
    serverUrl,
    deviceId: '',
    name: typeof values.name === 'string' ? values.name : hostname(),
    platform: PLATFORM_OF_KIND[keyKind],
    keyKind,
    driver: driverName,
    volumes,
    ...(uuidDir ? { uuidDir } : {}),
    ...(typeof values.user === 'string' ? { username: values.user } : {}),
    uploadedVolumes: [],
    enrolledAt: new Date().toISOString(),
  };

  // Everything that can be checked is checked before the one-time token is spent.
  let passphrases = new Map<string, string>();
  if (driverName === 'luks') {
    const probe = new LuksDriver({ volumes, uuidDir, kdfArgs: seams.luksKdfArgs });
    const found = await findLuksVolumes(probe, volumes, uuidDir);
    for (const skipped of found.skipped) console.log(`skipped ${skipped.spec}: ${skipped.why}; it is reported to the service as not encrypted`);
    passphrases = await collectPassphrases(probe, found.luks, passphraseSource());
    // Real block devices are followed by their LUKS UUID (udev's link), so a renamed path keeps its history.
    config.volumes = volumes.map((spec) => {
      const volume = found.luks.find((v) => v.spec === spec);
      if (!volume || spec.startsWith('UUID=')) return spec;
      try {
        return realpathSync(join(uuidDir ?? DEFAULT_UUID_DIR, volume.uuid)) === volume.path ? `UUID=${volume.uuid}` : spec;
      } catch {
        return spec;
      }
    });
  }
  // Made only now: a failed check leaves no trace on the device.
  const state = new AgentState(stateDir);
  lockStateDir(state.dir);
  if (driverName === 'simulated') {
    for (const ref of volumes.length > 0 ? volumes : ['sim0']) {
      createSimulatedVolume(state.simulatedVolumesDir, { ref, name: `${SIMULATED_LABEL} ${ref}`, keyKind, key: generateRecoveryKey(keyKind) });
    }
  }
  const driver = driverFor(config, state, seams);
  const probe = new Agent({ api: httpAgentApi({ serverUrl, credential: '' }), driver, journal: state.journal, records: state.records, log, readSerialNumber: serialNumberReaderFor(driverName, config.name) });
  const reports = await probe.volumeReports();
  const serialNumber = await probe.serialNumber();
  const enrolled = await enrollDevice(serverUrl, { token, name: config.name, platform: config.platform, keyKind, volumes: reports, ...(serialNumber ? { serialNumber } : {}) }).catch((error: unknown) => {
    if (error instanceof AgentApiError) throw new Stop(EXIT.usage, `the service refused the enrollment: ${error.serviceMessage || error.message} (${error.code}); nothing was changed on this device`);
    throw error;
  });
  state.writeCredential(enrolled.credential);
  config.deviceId = enrolled.deviceId;
  state.writeConfig(config);
  console.log(`enrolled: device ${enrolled.deviceId} at ${serverUrl} (driver ${driverLabel(driverName)})`);
  const agent = new Agent({ api: apiFor(config, state, enrolled.credential), driver, journal: state.journal, records: state.records, log, onStep: stepLogger(log, seams) });

  let failed = 0;
  for (const [uuid, passphrase] of passphrases) {
    const name = reports.find((r) => r.ref === uuid)?.name ?? uuid;
    const outcome = await agent.escrowNewKey(uuid, passphrase, 'enroll');
    if (outcome === 'finished') {
      console.log(`escrowed a recovery key for ${name} in a key slot of its own; your passphrase still opens it`);
    } else {
      failed += 1;
      console.log(`could not escrow a recovery key for ${name} (${outcome}); see the messages above, then run keyward-agent repair`);
    }
  }
  if (values['upload-existing'] === true || driverName === 'bitlocker') {
    for (const report of reports.filter((r) => r.encrypted)) {
      const count = await agent.uploadExistingKeys(report.ref);
      if (count > 0) config.uploadedVolumes.push(report.ref);
    }
    state.writeConfig(config);
  }
  if (failed > 0) throw new Stop(EXIT.attention, `enrolled, but ${failed} volume(s) have no escrowed key yet`);
}

function loadAgent(state: AgentState, log: Log, seams: AgentCliSeams): { config: AgentConfig; agent: Agent } {
  const config = state.readConfig();
  const credential = state.readCredential();
  if (!config || !credential) throw new PrecheckError(`not enrolled (no state in ${state.dir}); run keyward-agent enroll first`);
  const api = apiFor(config, state, credential);
  const agent = new Agent({
    api,
    driver: driverFor(config, state, seams),
    journal: state.journal,
    records: state.records,
    log,
    onStep: stepLogger(log, seams),
    readSerialNumber: serialNumberReaderFor(config.driver, config.name),
  });
  return { config, agent };
}

/** Logs each journaled rotation step, then tells the seam (if any). */
function stepLogger(log: Log, seams: AgentCliSeams): (step: RotationStep, operationId: string) => void {
  return (step, operationId) => {
    log(`operation ${operationId}: step ${step} done`);
    seams.afterRotationStep?.(step, operationId);
  };
}

/** The service refused the credential: say it once, in the service's words, and stop. */
function credentialRefused(error: AgentApiError): Stop {
  return new Stop(EXIT.credentialRefused, `the service refused this device's credential (${error.code}): ${error.serviceMessage || error.message}`);
}

async function run(once: boolean, state: AgentState, log: Log, seams: AgentCliSeams): Promise<void> {
  const { config, agent } = loadAgent(state, log, seams);
  if (config.driver === 'luks') requireRoot('keyward-agent run');
  lockStateDir(state.dir);
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
      log(`checked in: ${result.tasks} task(s)${result.failed > 0 ? `, ${result.failed} failed` : ''}${result.broken.length > 0 ? `; escrowed key no longer works on ${result.broken.join(', ')}` : ''}`);
      if (once) {
        if (result.failed > 0 || result.broken.length > 0) {
          const what = [result.failed > 0 ? `${result.failed} operation(s) failed` : '', result.broken.length > 0 ? `the escrowed key no longer works on ${result.broken.join(', ')} (run keyward-agent repair)` : ''];
          throw new Stop(EXIT.attention, what.filter(Boolean).join('; '));
        }
        return;
      }
      waitMs = Math.max(5, result.nextCheckinSeconds) * 1000;
    } catch (error) {
      if (error instanceof AgentApiError && error.credentialRefused) throw credentialRefused(error);
      if (once || error instanceof Stop) throw error;
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

async function repair(values: Values, state: AgentState, log: Log, seams: AgentCliSeams): Promise<void> {
  const { config, agent } = loadAgent(state, log, seams);
  if (config.driver !== 'luks') throw new UsageError('repair is for LUKS volumes; BitLocker and FileVault escrow is repaired at check-in (or rotate the key from the console)');
  requireRoot('keyward-agent repair');
  lockStateDir(state.dir);
  const driver = new LuksDriver({ volumes: config.volumes, uuidDir: config.uuidDir, kdfArgs: seams.luksKdfArgs });
  const wanted = (values.volume as string[] | undefined) ?? [];
  const volumes = (await driver.listVolumes()).filter((v) => v.encrypted && (wanted.length === 0 || wanted.includes(v.ref) || wanted.includes(v.name)));
  if (volumes.length === 0) throw new PrecheckError(wanted.length > 0 ? `no LUKS volume ${wanted.join(', ')} among the volumes this agent manages` : 'no LUKS volume found among the volumes this agent manages');
  const needing = [];
  for (const volume of volumes) {
    const health = await agent.escrowHealth(volume.ref);
    if (health === 'works' && values.force !== true) console.log(`${volume.name}: the escrowed key works; nothing to repair (--force replaces it anyway)`);
    else needing.push(volume);
  }
  if (needing.length === 0) return;
  const passphrases = await collectPassphrases(driver, needing.map((v) => ({ path: v.name, uuid: v.ref })), passphraseSource());
  let failed = 0;
  for (const volume of needing) {
    const outcome = await agent.escrowNewKey(volume.ref, passphrases.get(volume.ref) ?? '', 'repair');
    if (outcome === 'finished') console.log(`${volume.name}: escrowed a new recovery key in a key slot of its own; your passphrase still opens it`);
    else {
      failed += 1;
      console.log(`${volume.name}: could not escrow a new recovery key (${outcome}); see the messages above`);
    }
  }
  if (failed > 0) throw new Stop(EXIT.attention, `${failed} volume(s) still have no working escrowed key`);
}

async function status(state: AgentState, log: Log, seams: AgentCliSeams): Promise<void> {
  const { config, agent } = loadAgent(state, log, seams);
  console.log(`server:    ${config.serverUrl}`);
  console.log(`device:    ${config.deviceId} (${config.name}, ${config.platform})`);
  console.log(`driver:    ${driverLabel(config.driver)}, ${config.keyKind} keys`);
  console.log(`state dir: ${state.dir}`);
  for (const volume of await agent.volumeReports()) {
    const check = volume.escrowCheck === undefined ? '' : volume.escrowCheck.state === 'ok' ? ', escrowed key slot unchanged' : `, ESCROWED KEY NO LONGER WORKS (${volume.escrowCheck.problem ?? 'changed'}): run keyward-agent repair`;
    console.log(`volume:    ${volume.name} [${volume.ref}] ${volume.encrypted ? 'encrypted' : 'NOT encrypted'}${check}${config.driver === 'simulated' ? ` (${SIMULATED_LABEL})` : ''}`);
  }
  const unfinished = state.journal.list();
  console.log(unfinished.length === 0 ? 'rotations: none unfinished' : `rotations: ${unfinished.length} unfinished (${unfinished.map((e) => e.operationId).join(', ')}); the next run continues them`);
}

function installService(values: Values, state: AgentState): void {
  if (!state.readConfig() || !state.readCredential()) throw new PrecheckError(`not enrolled (no state in ${state.dir}); run keyward-agent enroll first`);
  const unitDir = typeof values['unit-dir'] === 'string' ? values['unit-dir'] : '/etc/systemd/system';
  const path = join(unitDir, UNIT_NAME);
  writeServiceUnit(path, { nodePath: process.execPath, cliPath: realpathSync(process.argv[1]), stateDir: realpathSync(state.dir) });
  console.log(`wrote ${path}\nnow run: systemctl daemon-reload && systemctl enable --now keyward-agent`);
}

function driverLabel(driver: DriverName): string {
  return driver === 'simulated' ? `${SIMULATED_LABEL} (fake volumes, not a real disk)` : driver;
}

async function main(argv: readonly string[], seams: AgentCliSeams): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      server: { type: 'string' },
      token: { type: 'string' },
      driver: { type: 'string' },
      volume: { type: 'string', multiple: true },
      kind: { type: 'string' },
      name: { type: 'string' },
      user: { type: 'string' },
      'upload-existing': { type: 'boolean' },
      'insecure-http': { type: 'boolean' },
      'uuid-dir': { type: 'string' },
      'unit-dir': { type: 'string' },
      'state-dir': { type: 'string' },
      force: { type: 'boolean' },
      once: { type: 'boolean' },
    },
  });
  const command = positionals[0];
  if (command === 'help' || command === undefined || values.help === true) {
    const topic = command === 'help' ? positionals[1] : command;
    if (topic === undefined || HELP[topic] === undefined) {
      console.log(USAGE);
      if (topic !== undefined && command !== 'help') throw new UsageError(`unknown command ${topic}`);
      if (command === undefined && values.help !== true) process.exitCode = EXIT.usage;
    } else {
      console.log(`${HELP[topic]}\n\n${EXIT_CODES_HELP}`);
    }
    return;
  }
  const stateDir = typeof values['state-dir'] === 'string' ? values['state-dir'] : defaultStateDir();
  if (command === 'enroll') return enroll(values, stateDir, agentLog((values.driver ?? 'luks') as DriverName), seams);
  const state = new AgentState(stateDir);
  const log = agentLog(state.readConfig()?.driver ?? 'luks');
  switch (command) {
    case 'run':
      return run(values.once === true, state, log, seams);
    case 'status':
      return status(state, log, seams);
    case 'repair':
      return repair(values, state, log, seams);
    case 'install-service':
      return installService(values, state);
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

function fail(code: number, message: string): never {
  console.error(`keyward-agent: ${message}`);
  process.exit(code);
}

/** Runs one `keyward-agent` command (`argv` without node and the script); a failure ends the process with its exit code and message. */
export function runAgentCli(argv: readonly string[], seams: AgentCliSeams = {}): Promise<void> {
  return main(argv, seams).catch((error: unknown) => failWith(error, argv));
}

function failWith(error: unknown, argv: readonly string[]): never {
  if (error instanceof UsageError) fail(EXIT.usage, `${error.message}\n${USAGE}`);
  if (error instanceof StateLockedError) fail(EXIT.usage, error.message);
  if (error instanceof PrecheckError || error instanceof ServerUrlError) fail(EXIT.usage, `${error.message}\nnothing was changed${argv.includes('enroll') ? '; the enrollment token was not used' : ''}`);
  if (error instanceof Stop) fail(error.code, error.message);
  if (error instanceof AgentApiError && error.credentialRefused) fail(EXIT.credentialRefused, credentialRefused(error).message);
  if (error instanceof AgentApiError) fail(EXIT.failure, error.serviceMessage ? `the service refused: ${error.serviceMessage} (${error.code})` : error.message);
  // parseArgs: an unknown option or a missing value is a usage error.
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) fail(EXIT.usage, `${error.message}\n${USAGE}`);
  fail(EXIT.failure, error instanceof Error ? error.message : String(error));
}
