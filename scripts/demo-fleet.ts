/**
 * The demo: the escrow service with the demo organisation, and the simulated devices (all
 * labelled "simulated") checking in against it: a corporate Mac whose key is escrowed at
 * enrollment, a personal Mac encrypted before enrollment (its owner stores the key), and a
 * Windows PC with BitLocker volumes C: and D:, both escrowed. Used by `npm start` and the tests
 * that need a live fleet; the service itself never imports the agent.
 */
import { join } from 'node:path';
import { startSimulatedFleet, type SimulatedDeviceSpec, type SimulatedFleet } from '../agent/simulated-fleet.ts';
import { startKeywardServer, type KeywardServer, type KeywardServerOptions } from '../server/main.ts';
import { DEMO_TOKENS } from '../server/seed.ts';

export function demoDeviceSpecs(): SimulatedDeviceSpec[] {
  return [
    {
      name: 'Corporate MacBook (simulated)',
      platform: 'macos',
      keyKind: 'filevault',
      enrollToken: DEMO_TOKENS['corporate-mac'],
      volumes: [{ ref: 'disk3s1', name: 'Macintosh HD', escrowed: true }],
    },
    {
      name: 'Personal MacBook (simulated)',
      platform: 'macos',
      keyKind: 'filevault',
      enrollToken: DEMO_TOKENS['personal-mac'],
      volumes: [{ ref: 'disk3s1', name: 'Macintosh HD', escrowed: false }],
    },
    {
      name: 'Windows PC (simulated)',
      platform: 'windows',
      keyKind: 'bitlocker',
      enrollToken: DEMO_TOKENS['windows-pc'],
      volumes: [
        { ref: 'C:', name: 'C:', escrowed: true },
        { ref: 'D:', name: 'D:', escrowed: true },
      ],
    },
  ];
}

export type DemoServiceOptions = Omit<KeywardServerOptions, 'demo' | 'dataDir'> & {
  /** Where the service's SQLite database and the simulated devices' state (`agents/`) live. */
  dataDir: string;
  /** How often the simulated devices check in; the service tells real agents the same (rounded to seconds). */
  checkinIntervalMs: number;
};

export type DemoService = KeywardServer & { fleet: SimulatedFleet };

/** Starts the service with the demo organisation, then the simulated fleet; `stop()` stops the fleet first. */
export async function startDemoService(options: DemoServiceOptions): Promise<DemoService> {
  const { checkinIntervalMs, ...serverOptions } = options;
  const agentCheckinSeconds = Math.max(1, Math.round(checkinIntervalMs / 1000));
  const server = await startKeywardServer({ ...serverOptions, demo: true, config: { ...serverOptions.config, agentCheckinSeconds } });
  let fleet: SimulatedFleet;
  try {
    fleet = await startSimulatedFleet({ serverUrl: server.url, stateDir: join(options.dataDir, 'agents'), devices: demoDeviceSpecs(), checkinIntervalMs });
  } catch (error) {
    await server.stop();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    ...server,
    fleet,
    stop: () => {
      stopping ??= fleet.stop().finally(() => server.stop());
      return stopping;
    },
  };
}
