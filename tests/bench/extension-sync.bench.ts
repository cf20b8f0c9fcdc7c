/**
 * `sync_1000_devices_ms`: the first sync of 1,000 devices with escrowed keys into an unlocked
 * vault, in the built extension's (.output/chrome-mv3) service worker in Chromium, against
 * the real service on 127.0.0.1 (SQLite in a temporary directory).
 *
 * The service holds 1,000 devices of the demo user, each with one volume and an active key
 * version, written straight into its database in one transaction with its own
 * `insertKeyVersion` (the key sealed with the service's KEK, as an agent escrow does).
 * Each run is a fresh browser profile (so a fresh, empty vault): sign-in tokens obtained over
 * HTTP are put where the extension keeps them, the vault passphrase is set (unlocked), and
 * the sync is triggered with the background's `sync.now` message from the options page; the
 * run ends when the reply arrives, i.e. once the devices are in the vault (checked: 1,000
 * cached devices). Sync caches device metadata only: keys are cached when revealed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRecoveryKey } from '../../lib/keys/index.ts';
import { startKeywardServer, type KeywardServer } from '../../server/main.ts';
import { DEMO_USERS } from '../../server/seed.ts';
import { insertKeyVersion } from '../../server/services/key-versions.ts';
import { launchWithExtension } from '../support/browser.ts';
import { signInOverHttp } from '../support/oauth-http.ts';
import { report, round, summarize } from './stats.ts';

const DEVICES = 1000;
const RUNS = 5;
const PASSPHRASE = 'benchmark passphrase 0123';

/** 1,000 devices of the demo user, each with one volume and an active (escrowed) key. */
async function seedDevices(service: KeywardServer): Promise<string> {
  const user = await service.db.selectFrom('users').select(['id', 'org_id']).where('email', '=', DEMO_USERS.user.email).executeTakeFirstOrThrow();
  const at = new Date().toISOString();
  await service.db.transaction().execute(async (trx) => {
    for (let i = 0; i < DEVICES; i++) {
      const deviceId = randomUUID();
      const volumeId = randomUUID();
      await trx.insertInto('devices').values({
        id: deviceId, org_id: user.org_id, owner_id: user.id, name: `Bench Mac ${String(i).padStart(4, '0')}`, ownership: 'corporate',
        platform: 'macos', key_kind: 'filevault', escrow_enabled: 1, last_checkin_at: at, checkin_requested_at: null,
        agent_credential_hash: `bench-${deviceId}`, enrolled_at: at, updated_at: at,
      }).execute();
      await trx.insertInto('volumes').values({ id: volumeId, device_id: deviceId, ref: 'disk1s1', name: 'Macintosh HD', encrypted: 1, created_at: at }).execute();
      await insertKeyVersion(trx, service.deps, {
        deviceId, volumeId, kind: 'filevault', state: 'active', source: 'agent', protectorId: null, secret: generateRecoveryKey('filevault'), at,
      });
    }
  });
  return user.id;
}

type RunResult = { ms: number; cached: number; reply: unknown };

async function oneRun(service: KeywardServer): Promise<RunResult> {
  const tokens = await signInOverHttp(service.url, DEMO_USERS.user);
  const browser = await launchWithExtension();
  try {
    const page = await browser.context.newPage();
    await page.goto(browser.extensionUrl('options.html'));
    return await page.evaluate(
      async ({ serviceUrl, tokens, passphrase }) => {
        const chrome = (globalThis as unknown as {
          chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> }; storage: { local: { set(v: unknown): Promise<void> } } };
        }).chrome;
        const send = (m: unknown) => chrome.runtime.sendMessage(m);
        await send({ type: 'settings.set', settings: { serviceUrl } });
        await chrome.storage.local.set({ tokens });
        const setup = (await send({ type: 'vault.setup', passphrase })) as { ok: boolean };
        if (!setup.ok) throw new Error(`vault setup failed: ${JSON.stringify(setup)}`);
        const started = performance.now();
        const reply = await send({ type: 'sync.now' });
        const ms = performance.now() - started;
        const { devices } = (await send({ type: 'devices.cached' })) as { devices: unknown[] };
        return { ms, cached: devices.length, reply };
      },
      { serviceUrl: service.url, tokens, passphrase: PASSPHRASE },
    );
  } finally {
    await browser.close();
  }
}

/** The service's share: the same two requests the sync makes, from Node (median of 3). */
async function timeServiceRequests(service: KeywardServer): Promise<number> {
  const { accessToken } = await signInOverHttp(service.url, DEMO_USERS.user);
  const headers = { authorization: `Bearer ${accessToken}` };
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await (await fetch(`${service.url}/api/v1/me`, { headers })).json();
    const list = (await (await fetch(`${service.url}/api/v1/devices`, { headers })).json()) as { devices: unknown[] };
    samples.push(performance.now() - started);
    if (list.devices.length !== DEVICES) throw new Error(`the service listed ${list.devices.length} devices`);
  }
  return summarize(samples).median;
}

const dataDir = mkdtempSync(join(tmpdir(), 'keyward-sync-bench-'));
const service = await startKeywardServer({ port: 0, dataDir, demo: true, quiet: true });
try {
  const seedStarted = performance.now();
  await seedDevices(service);
  const seedMs = performance.now() - seedStarted;
  const serviceMs = await timeServiceRequests(service);
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const result = await oneRun(service);
    if (result.cached !== DEVICES) throw new Error(`sync left ${result.cached} devices in the vault: ${JSON.stringify(result.reply)}`);
    samples.push(result.ms);
  }
  report(
    'sync_1000_devices_ms',
    samples,
    'ms',
    `chromium service worker, built extension, 'sync.now' from the options page → reply with ${DEVICES} devices in the unlocked vault; ` +
      `fresh profile and vault per run; service SQLite on 127.0.0.1 with ${DEVICES} devices of one user, each with an active escrowed key ` +
      `(inserted in one DB transaction with insertKeyVersion, ${round(seedMs)} ms); sync caches device metadata only (keys are cached on reveal, ` +
      `policy offlineCache: keys); the service's share, GET /me + /devices from Node, median ${round(serviceMs)} ms`,
  );
} finally {
  await service.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
