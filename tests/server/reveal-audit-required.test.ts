/**
 * On PostgreSQL too, a reveal whose audit event cannot be written is refused: no key in the
 * answer, and nothing the reveal would have changed stays behind (for an IT reveal: the key is
 * not marked exposed and no rotation is queued). The SQLite case is in audit-and-storage.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createHarness, enrollMac, FV_KEY_1, type Harness, type TestAgent } from './harness.ts';

describe('a reveal that cannot be audited (postgres)', () => {
  let h: Harness;
  let mac: TestAgent;

  beforeAll(async () => {
    h = await createHarness('postgres');
    mac = await enrollMac(h, 'corporate');
    expect((await mac.upload('disk1s1', FV_KEY_1)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  const count = async (q: 'audit' | 'rotations' | 'exposed') => {
    const db = h.deps.db;
    const rows =
      q === 'audit' ? await db.selectFrom('audit_events').select('seq').execute()
      : q === 'rotations' ? await db.selectFrom('operations').select('id').where('kind', '=', 'rotate').execute()
      : await db.selectFrom('key_versions').select('id').where('exposed', '=', 1).execute();
    return rows.length;
  };

  it('owner and IT reveals are refused with no key shown and nothing left behind', async () => {
    const before = [await count('audit'), await count('rotations'), await count('exposed')];
    await sql`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit store unavailable'; end $$`.execute(h.deps.db);
    await sql`create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()`.execute(h.deps.db);
    try {
      for (const [token, body] of [[h.people.owner.token, {}], [h.people.helpdesk.token, { reason: 'INC-9 locked out' }]] as const) {
        const res = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, token, body);
        expect(res.status).toBe(500);
        expect(res.body.error?.code).toBe('internal_error');
        expect(JSON.stringify(res.body)).not.toContain(FV_KEY_1.replaceAll('-', ''));
        expect(JSON.stringify(res.body)).not.toContain(FV_KEY_1);
      }
    } finally {
      await sql`drop trigger refuse_audit on audit_events`.execute(h.deps.db);
      await sql`drop function refuse_audit()`.execute(h.deps.db);
    }
    expect([await count('audit'), await count('rotations'), await count('exposed')]).toEqual(before);
    // With the audit log back, the same IT reveal works and is recorded.
    const ok = await call(h.app, 'POST', `/api/v1/devices/${mac.deviceId}/reveal`, h.people.helpdesk.token, { reason: 'INC-9 locked out' });
    expect(ok.body.key).toBe(FV_KEY_1);
    expect(await count('exposed')).toBe(before[2] + 1);
  });
});
