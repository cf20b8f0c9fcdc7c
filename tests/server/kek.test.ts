/**
 * The KEK file: created 0600 on first start, re-used after; `rewrap-kek` moves every key
 * version to a new KEK (the old one kept as kek.key.old-<id>) and the keys still open —
 * also when the re-wrap stopped between its commit and the file swap.
 */
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeywardServer } from '../../server/main.ts';
import { rewrapAllKeys } from '../../server/rewrap.ts';
import { createUser } from '../../server/seed.ts';
import { createEnrollmentToken, enrollDevice } from '../../server/services/agent-enroll.ts';
import { uploadProtectors } from '../../server/services/agent-report.ts';
import { openKeyVersion } from '../../server/services/key-versions.ts';
import { FV_KEY_1 } from './harness.ts';

describe('KEK file and re-wrap', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyward-kek-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function openAll(): Promise<{ keys: string[]; kekIds: string[]; currentKekId: string }> {
    const server = await startKeywardServer({ port: 0, dataDir, quiet: true });
    try {
      const rows = await server.db.selectFrom('key_versions').selectAll().execute();
      return { keys: rows.map((r) => openKeyVersion(server.deps, r, 'filevault')), kekIds: rows.map((r) => r.kek_id), currentKekId: server.deps.kek.id };
    } finally {
      await server.stop();
    }
  }

  it('first start creates a private KEK; escrowed keys survive two re-wraps, one of them interrupted', async () => {
    const server = await startKeywardServer({ port: 0, dataDir, quiet: true });
    const kekPath = join(dataDir, 'kek.key');
    expect(statSync(kekPath).mode & 0o777).toBe(0o600);
    const org = await server.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
    const owner = await createUser(server.deps, { orgId: org.id, email: 'kek@test.example', name: 'kek', password: 'kek-pass', role: 'user' });
    const token = await createEnrollmentToken(server.deps, { ownerId: owner, ownership: 'corporate', label: 'kek' });
    const { deviceId } = await enrollDevice(server.deps, { token, name: 'Mac', platform: 'macos', keyKind: 'filevault', volumes: [{ ref: 'd', name: 'd', encrypted: true, protectorIds: [] }] }, null);
    const device = await server.db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirstOrThrow();
    await uploadProtectors(server.deps, device, { volumeRef: 'd', protectors: [{ protectorId: '', key: FV_KEY_1 }] }, 'en');
    const firstKek = server.deps.kek.id;
    await server.stop();

    expect(await rewrapAllKeys({ dataDir })).toBe(1);
    const afterFirst = await openAll();
    expect(afterFirst.keys).toEqual([FV_KEY_1.replace(/-/g, '')]);
    expect(afterFirst.currentKekId).not.toBe(firstKek);
    expect(afterFirst.kekIds).toEqual([afterFirst.currentKekId]);
    expect(existsSync(join(dataDir, `kek.key.old-${firstKek}`))).toBe(true);

    // Second re-wrap, "crashed" after its commit: undo the file swap it made.
    const secondOld = afterFirst.currentKekId;
    await rewrapAllKeys({ dataDir });
    renameSync(kekPath, join(dataDir, 'kek.key.new'));
    renameSync(join(dataDir, `kek.key.old-${secondOld}`), kekPath);
    const interrupted = await openAll();
    expect(interrupted.currentKekId).toBe(secondOld);
    expect(interrupted.kekIds[0]).not.toBe(secondOld);
    expect(interrupted.keys).toEqual([FV_KEY_1.replace(/-/g, '')]);
    // Running it again finishes the job.
    await rewrapAllKeys({ dataDir });
    const finished = await openAll();
    expect(finished.kekIds).toEqual([finished.currentKekId]);
    expect(readdirSync(dataDir).filter((f) => f === 'kek.key.new')).toEqual([]);
  });
});
