/**
 * SIMULATED fleet: in-process agents with SIMULATED drivers (fake volumes in files) talking to
 * the real agent API over HTTP, for `npm start`'s demo and the end-to-end tests. Each device
 * enrolls once (its credential is kept in its state dir, so a restart re-uses it), gets its
 * volumes written with `initialKey` (or a generated key), escrows that key right after
 * enrollment when `escrowed: true`, then checks in every `checkinIntervalMs`.
 */
import { join } from 'node:path';
import type { KeyKind, Platform } from '../lib/api/contract.ts';
import { generateRecoveryKey } from '../lib/keys/index.ts';
import { Agent } from './agent.ts';
import { enrollDevice, httpAgentApi } from './api-client.ts';
import { createSimulatedVolume, readSimulatedVolume, SimulatedDriver, SIMULATED_LABEL, simulatedSerialNumber } from './drivers/simulated.ts';
import { silentLog, type Log } from './log.ts';
import { AgentState } from './state.ts';

export type SimulatedVolumeSpec = { ref: string; name: string; initialKey?: string; escrowed: boolean };
export type SimulatedDeviceSpec = { name: string; platform: Platform; keyKind: KeyKind; enrollToken: string; volumes: SimulatedVolumeSpec[] };

export type SimulatedFleetOptions = {
  serverUrl: string;
  stateDir: string;
  devices: SimulatedDeviceSpec[];
  checkinIntervalMs: number;
  log?: Log;
};

export type SimulatedFleetDevice = {
  name: string;
  deviceId: string;
  volumes: { ref: string; currentKey(): string }[];
  /** Runs one check-in now (tests; the loop keeps running too). */
  checkInNow(): Promise<void>;
};

export type SimulatedFleet = { stop(): Promise<void>; devices: SimulatedFleetDevice[] };

function safeDirName(name: string): string {
  return encodeURIComponent(name).replace(/%/g, '_');
}

export async function startSimulatedFleet(options: SimulatedFleetOptions): Promise<SimulatedFleet> {
  const baseLog = options.log ?? silentLog;
  let stopped = false;
  const wakers = new Set<() => void>();
  const loops: Promise<void>[] = [];
  const devices: SimulatedFleetDevice[] = [];

  for (const spec of options.devices) {
    const log: Log = (line) => baseLog(`[${SIMULATED_LABEL} ${spec.name}] ${line}`);
    const state = new AgentState(join(options.stateDir, safeDirName(spec.name)));
    const driver = new SimulatedDriver({ dir: state.simulatedVolumesDir, keyKind: spec.keyKind, log: (line) => baseLog(`${line} (device ${spec.name})`) });
    for (const volume of spec.volumes) {
      createSimulatedVolume(driver.dir, { ref: volume.ref, name: volume.name, keyKind: spec.keyKind, key: volume.initialKey ?? generateRecoveryKey(spec.keyKind) });
    }
    const { deviceId, credential } = await enrollOnce(state, spec, options.serverUrl, driver, log);
    const api = httpAgentApi({ serverUrl: options.serverUrl, credential, onNewCredential: (next) => state.writeCredential(next) });
    const agent = new Agent({ api, driver, journal: state.journal, records: state.records, log, readSerialNumber: async () => simulatedSerialNumber(spec.name) });

    const config = state.readConfig();
    if (config) {
      for (const volume of spec.volumes.filter((v) => v.escrowed && !config.uploadedVolumes.includes(v.ref))) {
        await agent.uploadExistingKeys(volume.ref);
        config.uploadedVolumes.push(volume.ref);
        state.writeConfig(config);
      }
    }

    let running: Promise<void> = Promise.resolve();
    const checkInNow = () => {
      running = running.then(async () => {
        try {
          await agent.checkInOnce();
        } catch (error) {
          log(`check-in failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
      return running;
    };
    loops.push((async () => {
      while (!stopped) {
        await checkInNow();
        if (stopped) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, options.checkinIntervalMs);
          function done() {
            clearTimeout(timer);
            wakers.delete(done);
            resolve();
          }
          wakers.add(done);
        });
      }
    })());

    devices.push({
      name: spec.name,
      deviceId,
      checkInNow,
      volumes: spec.volumes.map((v) => ({
        ref: v.ref,
        currentKey: () => {
          const slots = readSimulatedVolume(driver.dir, v.ref).slots;
          return slots[slots.length - 1].key;
        },
      })),
    });
  }

  return {
    devices,
    async stop() {
      stopped = true;
      for (const wake of [...wakers]) wake();
      await Promise.all(loops);
    },
  };
}

async function enrollOnce(state: AgentState, spec: SimulatedDeviceSpec, serverUrl: string, driver: SimulatedDriver, log: Log): Promise<{ deviceId: string; credential: string }> {
  const existing = state.readConfig();
  const credential = state.readCredential();
  if (existing && credential) {
    if (existing.serverUrl !== serverUrl) state.writeConfig({ ...existing, serverUrl });
    return { deviceId: existing.deviceId, credential };
  }
  const agent = new Agent({ api: httpAgentApi({ serverUrl, credential: '' }), driver, journal: state.journal, records: state.records });
  let enrolled: { deviceId: string; credential: string };
  try {
    enrolled = await enrollDevice(serverUrl, {
      token: spec.enrollToken, name: spec.name, platform: spec.platform, keyKind: spec.keyKind, volumes: await agent.volumeReports(), serialNumber: simulatedSerialNumber(spec.name),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`${SIMULATED_LABEL} device "${spec.name}" could not enroll (${why}); its saved credential in ${state.dir} is missing, and a one-time token cannot be used twice`);
  }
  state.writeCredential(enrolled.credential);
  state.writeConfig({
    serverUrl,
    deviceId: enrolled.deviceId,
    name: spec.name,
    platform: spec.platform,
    keyKind: spec.keyKind,
    driver: 'simulated',
    volumes: spec.volumes.map((v) => v.ref),
    uploadedVolumes: [],
    enrolledAt: new Date().toISOString(),
  });
  log(`enrolled as device ${enrolled.deviceId}`);
  return enrolled;
}
