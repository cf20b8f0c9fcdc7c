/**
 * The organisation never ends up without an admin, even when its two admins take each other's
 * admin role away at the same moment (PostgreSQL, where the two requests really run at once):
 * one change goes through, the other is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/seed.ts';
import { createHarness, portalLogin, postForm, type Harness } from './harness.ts';

describe('last admin under concurrent demotions (postgres)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness('postgres');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('two admins demoting each other at once leave one admin', async () => {
    const org = await h.deps.db.selectFrom('org').select('id').executeTakeFirstOrThrow();
    for (let round = 0; round < 8; round++) {
      const a = await createUser(h.deps, { orgId: org.id, email: `a${round}@test.example`, name: `A${round}`, password: 'admin-a-password', role: 'admin' });
      const b = await createUser(h.deps, { orgId: org.id, email: `b${round}@test.example`, name: `B${round}`, password: 'admin-b-password', role: 'admin' });
      // Only these two are admins this round.
      await h.deps.db.updateTable('users').set({ role: 'user' }).where('role', '=', 'admin').where('id', 'not in', [a, b]).execute();
      const demote = async (actor: string, target: string) => postForm(h.app, `/admin/users/${target}/role`, await portalLogin(h, actor), { role: 'user' });
      const answers = await Promise.all([demote(a, b), demote(b, a)]);
      const admins = await h.deps.db.selectFrom('users').select('id').where('role', '=', 'admin').execute();
      expect([round, admins.length]).toEqual([round, 1]);
      // The other one is refused: as the last admin, or because its author is no admin any more.
      const [done, refused] = answers.map((r) => r.status).sort();
      expect(done).toBe(303);
      expect([403, 409]).toContain(refused);
    }
  });
});
