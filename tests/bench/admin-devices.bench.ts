/**
 * admin_devices_page_ms: how long the IT console's device list (`/admin/devices`) takes to
 * answer at 100,000 devices (SQLite, HTTP on 127.0.0.1, a helpdesk session): the first page,
 * a filtered page (platform + key status), a search by name and a search by serial number. The
 * fleet is pre-filled by a bulk insert of the rows enrollment writes (1,000 owners, a device
 * with a serial number and a volume each) and then indexed by the service's own device-index
 * step; the note says how long each took.
 * Samples: one request each, after one warm-up request.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKeywardServer } from '../../server/main.ts';
import { createUser } from '../../server/seed.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { hashToken, randomToken } from '../../server/crypto/secrets.ts';
import { refreshDeviceIndex } from '../../server/services/device-index.ts';
import { report } from './stats.ts';

const DEVICES = Number(process.env.KEYWARD_BENCH_DEVICES ?? 100_000);
const OWNERS = 1_000;
const RUNS = 9;
const PLATFORMS = [['macos', 'filevault'], ['windows', 'bitlocker'], ['linux', 'luks']] as const;
/** Serial number prefixes in the style of each platform's makers (Apple, HP, Lenovo). */
const SERIAL_PREFIXES = ['C02', '5CG', 'PF3'] as const;

/** Device `i`'s serial number: its maker's prefix and `i` in base 36. */
function serialOf(i: number): string {
  return `${SERIAL_PREFIXES[i % SERIAL_PREFIXES.length]}${i.toString(36).toUpperCase().padStart(7, '0')}`;
}

const dataDir = mkdtempSync(join(tmpdir(), 'keyward-admin-bench-'));
const server = await startKeywardServer({ port: 0, dataDir, quiet: true });
try {
  const deps = server.deps;
  const org = await deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const helpdesk = await createUser(deps, { orgId: org.id, email: 'helpdesk@bench.test', name: 'Helpdesk', password: 'bench-helpdesk-pass', role: 'helpdesk' });

  const fillStarted = performance.now();
  const at = new Date().toISOString();
  const owners = Array.from({ length: OWNERS }, (_, i) => ({
    id: randomUUID(), org_id: org.id, email: `owner${i}@bench.test`, name: `Owner ${i}`, password_hash: '', role: 'user', locale: '', created_at: at,
    disabled_at: null, deleted_at: null, oidc_issuer: null, oidc_subject: null,
  }));
  await deps.db.transaction().execute(async (trx) => {
    for (let start = 0; start < OWNERS; start += 200) await trx.insertInto('users').values(owners.slice(start, start + 200)).execute();
    for (let start = 0; start < DEVICES; start += 500) {
      const devices = [];
      const volumes = [];
      for (let i = start; i < Math.min(DEVICES, start + 500); i++) {
        const id = randomUUID();
        const [platform, keyKind] = PLATFORMS[i % PLATFORMS.length];
        devices.push({
          id, org_id: org.id, owner_id: owners[i % OWNERS].id, name: `bench-${i}`, serial_number: serialOf(i), ownership: i % 4 === 0 ? 'personal' : 'corporate', platform, key_kind: keyKind,
          escrow_enabled: 1, last_checkin_at: at, checkin_requested_at: null, agent_credential_hash: hashToken(`kwa_${randomToken(32)}`), enrolled_at: at, updated_at: at,
          retired_at: null, credential_issued_at: at, next_credential_hash: null,
        });
        volumes.push({ id: randomUUID(), device_id: id, ref: 'disk0', name: 'Data', encrypted: i % 5 === 0 ? 0 : 1, created_at: at });
      }
      await trx.insertInto('devices').values(devices).execute();
      await trx.insertInto('volumes').values(volumes).execute();
    }
  });
  const insertedMs = performance.now() - fillStarted;
  const indexStarted = performance.now();
  await refreshDeviceIndex(deps);
  const indexedMs = performance.now() - indexStarted;

  const session = await createSession(deps, helpdesk);
  const cookie = `kw_session=${session.token}`;
  const pages: Array<[string, string]> = [
    ['first page', '/admin/devices'],
    ['filter platform=windows&status=missing', '/admin/devices?platform=windows&status=missing'],
    ['search q=bench-4242', '/admin/devices?q=bench-4242'],
    [`search by serial q=${serialOf(4242).toLowerCase()}`, `/admin/devices?q=${serialOf(4242).toLowerCase()}`],
  ];
  const note = `SQLite, ${DEVICES} devices, ${OWNERS} owners; pre-fill: bulk insert ${(insertedMs / 1000).toFixed(1)} s, device index ${(indexedMs / 1000).toFixed(1)} s`;
  for (const [label, path] of pages) {
    const samples: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}${path}`, { headers: { cookie } });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('data-device=')) throw new Error(`${path}: ${res.status}`);
      if (run > 0) samples.push(performance.now() - t0);
    }
    report('admin_devices_page_ms', samples, 'ms', `${label}; ${note}`);
  }
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
