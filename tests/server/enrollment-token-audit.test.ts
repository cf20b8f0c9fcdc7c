/**
 * A new enrollment token exists only with its audit event: when the event cannot be written
 * the admin sees an error and no token was created (a token that enrolls devices must never
 * be missing from the audit log). With the log working, the token is created and audited.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, portalLogin, postForm, type FormCredentials, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('enrollment tokens and the audit log (%s)', (kind) => {
  let h: Harness;
  let admin: FormCredentials;

  beforeAll(async () => {
    h = await createHarness(kind);
    admin = await portalLogin(h, h.people.admin.id);
  });
  afterAll(async () => {
    await h?.close();
  });

  const tokens = async () => (await h.deps.db.selectFrom('enrollment_tokens').select('id').execute()).length;
  const create = () => postForm(h.app, '/admin/enrollment-tokens', admin, { ownerEmail: h.people.owner.email, ownership: 'corporate', label: 'New laptop' });

  async function withAuditRefused(run: () => Promise<void>): Promise<void> {
    if (kind === 'sqlite') await sql`create trigger refuse_audit before insert on audit_events begin select raise(abort, 'audit store unavailable'); end`.execute(h.deps.db);
    else {
      await sql`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit store unavailable'; end $$`.execute(h.deps.db);
      await sql`create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()`.execute(h.deps.db);
    }
    try {
      await run();
    } finally {
      if (kind === 'sqlite') await sql`drop trigger refuse_audit`.execute(h.deps.db);
      else {
        await sql`drop trigger refuse_audit on audit_events`.execute(h.deps.db);
        await sql`drop function refuse_audit()`.execute(h.deps.db);
      }
    }
  }

  it('no audit event, no token', async () => {
    const before = await tokens();
    await withAuditRefused(async () => {
      const res = await create();
      expect(res.status).toBe(500);
      expect(await res.text()).not.toMatch(/kwe_/);
    });
    expect(await tokens()).toBe(before);
  });

  it('with the audit log working, the token is created and audited', async () => {
    const before = await tokens();
    const res = await create();
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/kwe_[A-Za-z0-9_-]{20,}/);
    expect(await tokens()).toBe(before + 1);
    const events = await h.deps.db.selectFrom('audit_events').select('action').where('action', '=', 'enrollment_token.created').execute();
    expect(events).toHaveLength(1);
  });
});
