/**
 * `npm start` (scripts/start.ts) never writes a recovery key into its output, not even the
 * simulated personal Mac's that the demo needs: it prints how to ask the simulated device for
 * it, and that command (scripts/demo-key.ts) prints the current key, labelled SIMULATED.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecoveryKey } from '../../lib/keys/index.ts';
import { readSimulatedVolume } from '../../agent/drivers/simulated.ts';
import { AgentState } from '../../agent/state.ts';
import { eventually } from './browser-session.ts';

describe('npm start output', () => {
  let dataDir = '';
  let child: ChildProcess;
  let output = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyward-start-'));
    child = spawn(process.execPath, ['scripts/start.ts'], {
      env: { ...process.env, KEYWARD_SKIP_BUILD: '1', KEYWARD_PORT: '0', KEYWARD_DATA: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(async () => output.includes('Press Ctrl-C to stop.'), 45_000);
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Every simulated device's current keys, as the simulated disks hold them. */
  function simulatedKeys(): { device: string; raw: string; formatted: string }[] {
    const agents = join(dataDir, 'agents');
    return readdirSync(agents).flatMap((entry) => {
      const state = new AgentState(join(agents, entry));
      const config = state.readConfig();
      if (!config) return [];
      return config.volumes.flatMap((ref) =>
        readSimulatedVolume(state.simulatedVolumesDir, ref).slots.map((slot) => ({ device: config.name, raw: slot.key, formatted: formatRecoveryKey(config.keyKind, slot.key) })),
      );
    });
  }

  it('holds no recovery key, and says how to ask the simulated personal Mac for its key', () => {
    const keys = simulatedKeys();
    expect(keys.some((k) => k.device.startsWith('Personal MacBook'))).toBe(true);
    for (const k of keys) {
      expect(output).not.toContain(k.formatted);
      expect(output).not.toContain(k.raw);
    }
    expect(output).toContain('node scripts/demo-key.ts "Personal MacBook (simulated)"');
  });

  it('the command it prints gives the current key of the simulated disk, labelled SIMULATED', () => {
    const command = /node scripts\/demo-key\.ts "([^"]+)" --data "([^"]+)"/.exec(output);
    expect(command).not.toBeNull();
    const run = spawnSync(process.execPath, ['scripts/demo-key.ts', command![1], '--data', command![2]], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(0);
    const personal = simulatedKeys().filter((k) => k.device.startsWith('Personal MacBook')).at(-1)!;
    expect(run.stdout).toContain('SIMULATED device "Personal MacBook (simulated)"');
    expect(run.stdout).toContain(`Macintosh HD (disk3s1): ${personal.formatted}`);
  });
});
