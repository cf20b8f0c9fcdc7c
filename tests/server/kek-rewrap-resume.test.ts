/**
 * `rewrap-kek` stopped part-way (a crash after some batches committed) leaves every key
 * openable — the instance holds both KEKs — and running it again finishes the job; the old
 * KEK cannot be retired while keys still need it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startKeywardServer } from '../../server/main.ts';
import { addKek, retireOldKeks, rewrapAllKeys, type KekCommandOptions } from '../../server/rewrap.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { uploadProtectors } from '../../server/services/agent-report.ts';
import { openKeyVersion } from '../../server/services/key-versions.ts';
import { FV_KEY_1, FV_KEY_2, FV_KEY_3 } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'keyward-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('an interrupted re-wrap', () => {
  it('keeps every key openable, retires nothing while keys still need the old KEK, and finishes when run again', async () => {
    const dataDir = join(root, 'data');
    const server = await startKeywardServer({ port: 0, dataDir, quiet: true, kekReloadIntervalMs: 50 });
    try {
      const deps = server.deps;
      const org = await deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
      const owner = await createUser(deps, { orgId: org.id, email: 'o@resume.example', name: 'O', password: 'o-pass-123456', role: 'user' });
      const keys = [FV_KEY_1, FV_KEY_2, FV_KEY_3];
      for (const [i, key] of keys.entries()) {
        const token = await createEnrollmentToken(deps, { ownerId: owner, ownership: 'corporate', label: `Mac ${i}` });
        const { deviceId } = await enrollDevice(deps, { token, name: `Mac ${i}`, platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: true, protectorIds: [] }] }, null);
        const device = await deps.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirstOrThrow();
        await uploadProtectors(deps, device, { volumeRef: 'd', protectors: [{ protectorId: '', key }] }, 'en');
      }
      const oldKek = deps.kek.id;
      const options: KekCommandOptions = { kekFile: join(dataDir, 'kek.key'), auditKeyFile: join(dataDir, 'audit.key'), dataDir, batchSize: 1, waitForInstancesMs: 5_000 };
      const added = addKek(options.kekFile);
      const deadline = Date.now() + 5_000;
      while (!deps.previousKeks?.some((k) => k.id === added.kek.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

      // Crash after the first batch has committed.
      const crash = (line: string) => {
        if (line.startsWith('keyward: re-wrapped')) throw new Error('crashed');
      };
      await expect(rewrapAllKeys({ ...options, say: crash })).rejects.toThrow('crashed');
      const openAll = async () => {
        const rows = await deps.db.selectFrom('key_versions').selectAll().orderBy('created_at').execute();
        return { keys: rows.map((r) => openKeyVersion(deps, r, 'filevault')).sort(), kekIds: rows.map((r) => r.kek_id) };
      };
      const halfway = await openAll();
      expect(halfway.keys).toEqual(keys.map((k) => k.replaceAll('-', '')).sort());
      expect(new Set(halfway.kekIds)).toEqual(new Set([oldKek, added.kek.id]));
      expect(await retireOldKeks(options)).toEqual({ retired: [], kept: [] });

      const finished = await rewrapAllKeys(options);
      expect(finished.count).toBe(2);
      const after = await openAll();
      expect(after.keys).toEqual(halfway.keys);
      expect(new Set(after.kekIds)).toEqual(new Set([added.kek.id]));
      expect((await retireOldKeks(options)).retired).toEqual([oldKek]);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
