/**
 * KEK rotation with no outage: instances load a KEK added beside their KEK file without a
 * restart; `rewrap-kek` waits until every running instance holds it, re-wraps in small
 * transactions and is audited; `kek-retire` deletes the old KEK once no key needs it. Under
 * continuous reveals, stores and check-ins on every instance (two on PostgreSQL), no request
 * fails at any step. An instance started with a KEK file the database has moved past refuses
 * to start with one line saying what to copy.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startKeywardServer, type KeywardServer, type KeywardServerOptions } from '../../server/main.ts';
import { createApp } from '../../server/app.ts';
import { addKek, KekRotationRefused, retireOldKeks, rewrapAllKeys, type KekCommandOptions } from '../../server/rewrap.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { uploadProtectors } from '../../server/services/agent-report.ts';
import { dropPostgresSchema } from '../../server/db/open.ts';
import { FV_KEY_1, FV_KEY_2, PG_URL, tokensFor } from './harness.ts';

const KEYS = ['AU2A-PHMK-WBGX-PWKX-M3X3-VAPY', 'B7QF-4N2K-ZX9L-RT5M-HC8W-DJ3E', 'K9DE-2WQA-77RT-MN4B-XY6P-0LZC'];

type Cluster = {
  instances: KeywardServer[];
  dirs: string[];
  options: Omit<KeywardServerOptions, 'dataDir' | 'instance'>;
  kekOptions: KekCommandOptions;
  devices: { id: string; key: string }[];
  token: string;
  close(): Promise<void>;
};

async function startCluster(kind: 'sqlite' | 'postgres', count: number): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), 'keyward-rotation-'));
  const schema = `kw_rot_${process.pid}_${randomBytes(4).toString('hex')}`;
  const options = {
    port: 0, quiet: true, kekReloadIntervalMs: 100,
    ...(kind === 'postgres' ? { databaseUrl: PG_URL, pgSchema: schema } : {}),
    config: { rateLimits: { loginPerMinute: 1000, revealPerMinute: 1_000_000 } },
  };
  const dirs = Array.from({ length: count }, (_, i) => join(root, `instance-${i}`));
  const instances: KeywardServer[] = [await startKeywardServer({ ...options, dataDir: dirs[0], instance: 'instance-0' })];
  for (let i = 1; i < count; i += 1) {
    // Each instance has its own copy of the key files, as on separate machines.
    mkdirSync(dirs[i], { mode: 0o700 });
    for (const f of ['kek.key', 'audit.key']) copyFileSync(join(dirs[0], f), join(dirs[i], f));
    instances.push(await startKeywardServer({ ...options, dataDir: dirs[i], instance: `instance-${i}` }));
  }
  const deps = instances[0].deps;
  const org = await deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
  const owner = await createUser(deps, { orgId: org.id, email: 'owner@rotation.example', name: 'Owner', password: 'owner-pass-123', role: 'user' });
  const devices: { id: string; key: string }[] = [];
  for (let i = 0; i < 6; i += 1) {
    const token = await createEnrollmentToken(deps, { ownerId: owner, ownership: 'corporate', label: `Mac ${i}` });
    const { deviceId } = await enrollDevice(deps, { token, name: `Mac ${i}`, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: true, protectorIds: [] }] }, null);
    const device = await deps.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirstOrThrow();
    const key = KEYS[i % KEYS.length];
    await uploadProtectors(deps, device, { volumeRef: 'd', protectors: [{ protectorId: '', key }] }, 'en');
    devices.push({ id: deviceId, key });
  }
  const token = (await tokensFor(createApp(deps), deps, owner)).access_token;
  const kekOptions: KekCommandOptions = {
    kekFile: join(dirs[0], 'kek.key'), auditKeyFile: join(dirs[0], 'audit.key'), dataDir: dirs[0],
    ...(kind === 'postgres' ? { databaseUrl: PG_URL, pgSchema: schema } : {}),
    batchSize: 2, waitForInstancesMs: 10_000,
  };
  return {
    instances, dirs, options, kekOptions, devices, token,
    close: async () => {
      for (const s of instances) await s.stop();
      if (kind === 'postgres') await dropPostgresSchema(PG_URL, schema);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Reveals on every instance, plus a store and a check-in loop, until stopped; every failure is kept. */
function startLoad(c: Cluster, agentCredential: string, storeDevice: string) {
  let running = true;
  const failures: string[] = [];
  let reveals = 0;
  let others = 0;
  const post = (base: string, path: string, auth: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const revealer = async (worker: number) => {
    for (let i = worker; running; i += 1) {
      const server = c.instances[i % c.instances.length];
      const device = c.devices[i % c.devices.length];
      const res = await post(server.url, `/api/v1/devices/${device.id}/reveal`, c.token, {});
      const body = (await res.json()) as { key?: string };
      if (res.status !== 200 || body.key !== device.key) failures.push(`reveal on ${server.url}: ${res.status} ${JSON.stringify(body)}`);
      else reveals += 1;
    }
  };
  const storer = async () => {
    for (let i = 0; running; i += 1) {
      const server = c.instances[i % c.instances.length];
      const key = i % 2 ? FV_KEY_1 : FV_KEY_2;
      const stored = await post(server.url, `/api/v1/devices/${storeDevice}/keys`, c.token, { key, confirmKey: key });
      if (stored.status !== 202) failures.push(`store on ${server.url}: ${stored.status} ${await stored.text()}`);
      const checkin = await post(c.instances[(i + 1) % c.instances.length].url, '/api/v1/agent/checkin', agentCredential, { volumes: [] });
      if (checkin.status !== 200) failures.push(`check-in: ${checkin.status} ${await checkin.text()}`);
      else others += 1;
    }
  };
  const workers = [revealer(0), revealer(1), revealer(2), storer()];
  return {
    failures,
    counts: () => ({ reveals, others }),
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(['sqlite', 'postgres'] as const)('KEK rotation on %s', (kind) => {
  const clusters: Cluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.close();
  });

  it(`a whole rotation under reveal, store and check-in load on ${kind === 'postgres' ? 'two instances' : 'one instance'}: zero failed requests`, async () => {
    const c = await startCluster(kind, kind === 'postgres' ? 2 : 1);
    clusters.push(c);
    const deps = c.instances[0].deps;
    const owner = await deps.db.selectFrom('users').select('id').where('email', '=', 'owner@rotation.example').executeTakeFirstOrThrow();
    const enrollToken = await createEnrollmentToken(deps, { ownerId: owner.id, ownership: 'personal', label: 'Store target' });
    const agent = await enrollDevice(deps, { token: enrollToken, name: 'Store target', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: true, protectorIds: [] }] }, null);
    const oldKek = deps.kek.id;
    const load = startLoad(c, agent.credential, agent.deviceId);
    const progressed = async (n: number) => {
      const start = load.counts().reveals;
      await until(`${n} more reveals`, () => load.counts().reveals >= start + n || load.failures.length > 0);
    };
    await progressed(20);

    // Step 1: the new KEK is added and copied beside every instance's KEK file; they load it without a restart.
    const added = addKek(c.kekOptions.kekFile);
    for (const dir of c.dirs.slice(1)) copyFileSync(added.path, join(dir, 'kek.key.new'));
    await until('every instance holding the new KEK', () => c.instances.every((s) => s.deps.previousKeks?.some((k) => k.id === added.kek.id)));
    await progressed(20);

    // Step 2: re-wrap, online.
    const result = await rewrapAllKeys(c.kekOptions);
    expect(result.to).toBe(added.kek.id);
    expect(result.count).toBeGreaterThanOrEqual(c.devices.length);
    await progressed(20);

    // Step 3: the other instances take the new KEK as theirs, dropping the old one; then it is retired.
    for (const dir of c.dirs.slice(1)) renameSync(join(dir, 'kek.key.new'), join(dir, 'kek.key'));
    await until('every instance sealing with the new KEK', () => c.instances.every((s) => s.deps.kek.id === added.kek.id));
    const retired = await retireOldKeks(c.kekOptions);
    expect(retired).toEqual({ retired: [oldKek], kept: [] });
    expect(existsSync(`${c.kekOptions.kekFile}.old-${oldKek}`)).toBe(false);
    await progressed(20);
    await load.stop();

    expect(load.failures).toEqual([]);
    expect(load.counts().others).toBeGreaterThan(0);
    const kekIds = await deps.db.selectFrom('key_versions').select('kek_id').where('wrapped_key', '!=', '').execute();
    expect(new Set(kekIds.map((r) => r.kek_id))).toEqual(new Set([added.kek.id]));
    const actions = await deps.db.selectFrom('audit_events').select(['action', 'detail']).where('action', 'like', 'kek.%').orderBy('seq').execute();
    expect(actions.map((a) => a.action)).toEqual(['kek.rewrap_started', 'kek.rewrapped', 'kek.retired']);
  }, 120_000);

  it('rewrap-kek refuses, changing nothing, while a running instance lacks the new KEK; an instance restarted with the old KEK file refuses to start', async () => {
    const c = await startCluster(kind, 1);
    clusters.push(c);
    const oldKek = c.instances[0].deps.kek.id;
    const added = addKek(c.kekOptions.kekFile);
    const kekIdsBefore = await c.instances[0].deps.db.selectFrom('key_versions').select('kek_id').execute();
    // A second instance that was never given the new KEK.
    const lagging = join(c.dirs[0], '..', 'lagging');
    mkdirSync(lagging, { mode: 0o700 });
    for (const f of ['kek.key', 'audit.key']) copyFileSync(join(c.dirs[0], f), join(lagging, f));
    if (kind === 'postgres') {
      const other = await startKeywardServer({ ...c.options, dataDir: lagging, instance: 'lagging' });
      c.instances.push(other);
      await expect(rewrapAllKeys({ ...c.kekOptions, waitForInstancesMs: 300 })).rejects.toThrow(/instance lagging does not hold the new KEK .*nothing was changed/);
      expect(await c.instances[0].deps.db.selectFrom('key_versions').select('kek_id').execute()).toEqual(kekIdsBefore);
      await other.stop();
      c.instances.pop();
    }
    await rewrapAllKeys(c.kekOptions);
    await expect(rewrapAllKeys(c.kekOptions)).rejects.toThrow(KekRotationRefused);
    if (kind === 'postgres') {
      await expect(startKeywardServer({ ...c.options, dataDir: lagging, instance: 'lagging' })).rejects.toThrow(
        new RegExp(`does not hold KEK ${added.kek.id}, which the database now seals keys with \\(.* holds ${oldKek}\\); copy the current KEK file`),
      );
    }
  }, 60_000);
});
