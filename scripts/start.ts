/**
 * `npm start`: builds the extension for Chrome and Firefox (skip with KEYWARD_SKIP_BUILD=1),
 * then runs the escrow service on http://127.0.0.1:8787 with SQLite under ./data, the demo
 * organisation and the simulated device fleet, and prints how to try every flow.
 * Ctrl-C stops the fleet and the service cleanly. No recovery key is ever printed here: the
 * output says how to ask the simulated personal Mac for its key (scripts/demo-key.ts).
 * KEYWARD_PORT and KEYWARD_DATA choose another port and data directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_USERS } from '../server/seed.ts';
import { startDemoService } from './demo-fleet.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.KEYWARD_PORT ?? 8787);
const dataDir = process.env.KEYWARD_DATA ?? join(root, 'data');

function buildExtension(browser: 'chrome' | 'firefox'): boolean {
  console.log(`keyward: building the extension for ${browser}…`);
  const run = spawnSync('npx', ['wxt', 'build', '-b', browser], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) console.error(`keyward: the ${browser} build failed (exit ${run.status}); the service starts anyway.`);
  return run.status === 0;
}

if (process.env.KEYWARD_SKIP_BUILD !== '1') {
  buildExtension('chrome');
  buildExtension('firefox');
}

const server = await startDemoService({ port, dataDir, checkinIntervalMs: 1000 });

const personal = server.fleet.devices.find((d) => d.name.startsWith('Personal'));
const dataOption = process.env.KEYWARD_DATA ? ` --data ${JSON.stringify(dataDir)}` : '';
const chromeDir = join(root, '.output', 'chrome-mv3');
const firefoxDir = join(root, '.output', 'firefox-mv3');
const lines = [
  '',
  `Keyward is running: ${server.url}`,
  '',
  'Sign in to the portal:',
  `  user      ${DEMO_USERS.user.email} / ${DEMO_USERS.user.password}`,
  `  admin     ${DEMO_USERS.admin.email} / ${DEMO_USERS.admin.password}`,
  `  helpdesk  ${DEMO_USERS.helpdesk.email} / ${DEMO_USERS.helpdesk.password}`,
  '',
  `Devices are SIMULATED (fake volumes in files under ${join(dataDir, 'agents')}).`,
  personal
    ? `To store the ${personal.name}'s key, ask the simulated device for it in another terminal:\n  node scripts/demo-key.ts "${personal.name}"${dataOption}`
    : 'Personal MacBook (simulated disk): not running',
  '  Store it from the device page; the simulated device verifies it and rotates it.',
  '',
  'Browser extension:',
  `  Chrome/Edge: chrome://extensions → Developer mode → Load unpacked → ${chromeDir}${existsSync(chromeDir) ? '' : ' (not built)'}`,
  `  Firefox:     about:debugging#/runtime/this-firefox → Load Temporary Add-on → ${join(firefoxDir, 'manifest.json')}${existsSync(firefoxDir) ? '' : ' (not built)'}`,
  `  Then set the escrow service URL in the extension's options to ${server.url} and sign in.`,
  '',
  'Press Ctrl-C to stop.',
];
console.log(lines.join('\n'));

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\nkeyward: ${signal} — stopping the simulated devices and the service…`);
  server.stop().then(
    () => {
      console.log('keyward: stopped.');
      process.exit(0);
    },
    (error: unknown) => {
      console.error('keyward: stop failed:', error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
