/**
 * `node scripts/demo-key.ts "<device name>" [--data ./data]`: asks a SIMULATED demo device
 * for the current recovery key of its simulated disk, as a person would read it off their own
 * Mac to store it on the portal. The key is read from the simulated volume's file and printed
 * here, on request, labelled SIMULATED — never into the service's start-up output or logs.
 * Without a name it lists the simulated devices.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatRecoveryKey } from '../lib/keys/index.ts';
import { AgentState, type AgentConfig } from '../agent/state.ts';
import { readSimulatedVolume, SIMULATED_LABEL } from '../agent/drivers/simulated.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { positionals, values } = parseArgs({ allowPositionals: true, options: { data: { type: 'string', default: join(root, 'data') } } });
const agentsDir = join(values.data, 'agents');

const devices: { state: AgentState; config: AgentConfig }[] = (existsSync(agentsDir) ? readdirSync(agentsDir) : []).flatMap((entry) => {
  const state = new AgentState(join(agentsDir, entry));
  const config = state.readConfig();
  return config?.driver === 'simulated' ? [{ state, config }] : [];
});

const wanted = positionals.join(' ').trim().toLowerCase();
const matches = wanted ? devices.filter((d) => d.config.name.toLowerCase().includes(wanted)) : [];

if (matches.length !== 1) {
  if (wanted) console.error(matches.length ? `More than one simulated device is named like "${wanted}".` : `No simulated device is named like "${wanted}".`);
  console.error(devices.length ? `Simulated devices under ${agentsDir}:` : `No simulated devices under ${agentsDir} (start the demo with npm start first).`);
  for (const d of devices) console.error(`  ${d.config.name}`);
  console.error('Usage: node scripts/demo-key.ts "<device name>" [--data ./data]');
  process.exit(wanted ? 1 : 2);
}

const { state, config } = matches[0];
console.log(`${SIMULATED_LABEL} device "${config.name}": current recovery key of its simulated disk (a stand-in, not a real disk)`);
for (const ref of config.volumes) {
  const volume = readSimulatedVolume(state.simulatedVolumesDir, ref);
  const current = volume.slots[volume.slots.length - 1];
  console.log(`  ${volume.name} (${ref}): ${current ? formatRecoveryKey(config.keyKind, current.key) : '(no key)'}`);
}
