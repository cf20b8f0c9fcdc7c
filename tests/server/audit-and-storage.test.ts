/**
 * The audit chain verifies, detects an altered or deleted event, and a reveal whose audit
 * event cannot be written is refused. Keys at rest: the plaintext never appears in the
 * SQLite file (database or WAL), a ciphertext moved to another row does not decrypt, and
 * retired versions are destroyed after the retention period.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../server/audit.ts';
import { openKeyVersion } from '../../server/services/key-versions.ts';
import { destroyExpiredKeyVersions } from '../../server/services/retention.ts';
import { call, createHarness, enrollMac, FV_KEY_1, FV_KEY_2, type Harness, type TestAgent } from './harness.ts';

describe('audit log and keys at rest', () => {
  let h: Harness;
  let mac: TestAgent;

  beforeAll(async () => {
    h = await createHarness('sqlite');
    mac = await enrollMac(h, 'corporate');
    await mac.upload('disk1s1', FV_KEY_1);
    await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {});
    await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.admin.token, { reason: 'audit test' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the chain of events verifies', async () => {
    const result = await verifyAuditChain(h.deps);
    expect(result).toMatchObject({ ok: true });
    expect(result.count).toBeGreaterThanOrEqual(5);
  });

  it('altering one event breaks the chain at that event', async () => {
    const target = await h.deps.db.selectFrom('audit_events').select(['seq', 'detail']).where('action', '=', 'key.revealed').orderBy('seq').executeTakeFirstOrThrow();
    await h.deps.db.updateTable('audit_events').set({ detail: target.detail.replace('"byIt":false', '"byIt":true') }).where('seq', '=', target.seq).execute();
    expect(await verifyAuditChain(h.deps)).toMatchObject({ ok: false, brokenAtSeq: target.seq });
    await h.deps.db.updateTable('audit_events').set({ detail: target.detail }).where('seq', '=', target.seq).execute();
    expect(await verifyAuditChain(h.deps)).toMatchObject({ ok: true });
  });

  it('deleting the newest event is detected too', async () => {
    const last = await h.deps.db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').executeTakeFirstOrThrow();
    await h.deps.db.deleteFrom('audit_events').where('seq', '=', last.seq).execute();
    expect((await verifyAuditChain(h.deps)).ok).toBe(false);
    await h.deps.db.insertInto('audit_events').values(last).execute();
    expect((await verifyAuditChain(h.deps)).ok).toBe(true);
  });

  it('a reveal whose audit event cannot be written is refused and leaves nothing behind', async () => {
    const before = await h.deps.db.selectFrom('audit_events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    await sql`create trigger refuse_audit before insert on audit_events begin select raise(abort, 'audit store unavailable'); end`.execute(h.deps.db);
    try {
      const res = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {});
      expect(res.status).toBe(500);
      expect(res.body.error?.code).toBe('internal_error');
      expect(JSON.stringify(res.body)).not.toContain(FV_KEY_1);
    } finally {
      await sql`drop trigger refuse_audit`.execute(h.deps.db);
    }
    const after = await h.deps.db.selectFrom('audit_events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('the plaintext key is not in the SQLite files', async () => {
    await sql`pragma wal_checkpoint(FULL)`.execute(h.deps.db);
    const files = readdirSync(h.dataDir).filter((f) => f.startsWith('keyward.db'));
    expect(files).toContain('keyward.db');
    const needles = [FV_KEY_1, FV_KEY_1.replace(/-/g, '')];
    for (const f of files) {
      const bytes = readFileSync(join(h.dataDir, f));
      for (const n of needles) {
        expect(bytes.includes(Buffer.from(n, 'utf8'))).toBe(false);
        expect(bytes.includes(Buffer.from(n, 'utf16le'))).toBe(false);
      }
    }
    // …while the service can still open it.
    const res = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {});
    expect(res.body.key).toBe(FV_KEY_1);
  });

  it('a ciphertext copied onto another key version does not decrypt (bound to its record)', async () => {
    await mac.upload('disk1s1', FV_KEY_2);
    const rows = await h.deps.db.selectFrom('key_versions').selectAll().where('device_id', '=', mac.deviceId).orderBy('version').execute();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const [a, b] = rows;
    expect(openKeyVersion(h.deps, a, 'filevault')).toBe(FV_KEY_1.replace(/-/g, ''));
    const swapped = { ...b, ciphertext: a.ciphertext, wrapped_key: a.wrapped_key };
    expect(() => openKeyVersion(h.deps, swapped, 'filevault')).toThrow();
    expect(() => openKeyVersion(h.deps, a, 'bitlocker')).toThrow();
  });
});

describe('retention', () => {
  it('retired key versions past the retention period are destroyed; the active key stays', async () => {
    const h = await createHarness('sqlite');
    try {
      const mac = await enrollMac(h, 'personal');
      await mac.upload('disk1s1', FV_KEY_1);
      await mac.upload('disk1s1', FV_KEY_2);
      const old = new Date(Date.now() - 100 * 86_400_000).toISOString();
      await h.deps.db.updateTable('key_versions').set({ updated_at: old }).where('state', '=', 'retired').execute();
      expect(await destroyExpiredKeyVersions(h.deps, 90)).toBe(1);
      expect(await destroyExpiredKeyVersions(h.deps, 90)).toBe(0);
      const rows = await h.deps.db.selectFrom('key_versions').select(['state', 'ciphertext']).orderBy('version').execute();
      expect(rows.map((r) => [r.state, r.ciphertext === ''])).toEqual([['retired', true], ['active', false]]);
      expect((await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.owner.token, {})).body.key).toBe(FV_KEY_2);
      expect(await verifyAuditChain(h.deps)).toMatchObject({ ok: true });
    } finally {
      await h.close();
    }
  });
});
