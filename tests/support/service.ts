/**
 * Starts the real escrow service for a test: SQLite in a temporary directory, the demo
 * organisation and its simulated devices (agents checking in every half second).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_USERS } from '../../server/seed.ts';
import { startDemoService, type DemoService } from '../../scripts/demo-fleet.ts';

export const DEMO_USER = { email: DEMO_USERS.user.email, password: DEMO_USERS.user.password };

export type TestService = DemoService & { dataDir: string; close(): Promise<void> };

/** Starts the service; with `restart`, again on the same port and data directory (after `stop()`). */
export async function startTestService(restart?: { port: number; dataDir: string }): Promise<TestService> {
  const dataDir = restart?.dataDir ?? mkdtempSync(join(tmpdir(), 'keyward-e2e-data-'));
  const server = await startDemoService({ port: restart?.port ?? 0, dataDir, checkinIntervalMs: 500, quiet: true });
  return {
    ...server,
    dataDir,
    close: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function fleetDevice(service: DemoService, namePart: string) {
  const device = service.fleet.devices.find((d) => d.name.includes(namePart));
  if (!device) throw new Error(`No simulated device named like "${namePart}".`);
  return device;
}
