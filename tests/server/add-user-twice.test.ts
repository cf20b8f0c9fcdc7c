/**
 * The admin's "Add user" form sent twice at once (a double click): one account is created and
 * audited once; the second answer says the email is taken — never a failure page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, portalLogin, postForm, type Harness } from './harness.ts';

describe.each(['sqlite', 'postgres'] as const)('add user sent twice (%s)', (kind) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('creates one account and tells the second request it exists', async () => {
    const admin = await portalLogin(h, h.people.admin.id);
    const add = () => postForm(h.app, '/admin/users', admin, { email: 'new.person@test.example', name: 'New Person', role: 'helpdesk', password: 'a-long-initial-password' });
    const answers = await Promise.all([add(), add()]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 409]);
    const users = await h.deps.db.selectFrom('users').select('id').where('email', '=', 'new.person@test.example').execute();
    expect(users).toHaveLength(1);
    const events = await h.deps.db.selectFrom('audit_events').select('seq').where('action', '=', 'user.created').execute();
    expect(events).toHaveLength(1);
  });
});
