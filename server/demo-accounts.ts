/**
 * The demo organisation's accounts, whose passwords are published: recognised by their
 * domain, labelled as demo in the portal, and removed with `keyward demo-remove` (they can no
 * longer sign in: password cleared, sessions and browser grants revoked; their devices and the
 * audit history stay). `serve` without `--demo` refuses a database that still has them.
 */
import type { AppDeps } from './deps.ts';
import { nowIso } from './deps.ts';
import { appendAudit } from './audit.ts';

export const DEMO_DOMAIN = '@demo.keyward.test';

export function isDemoAccount(email: string): boolean {
  return email.toLowerCase().endsWith(DEMO_DOMAIN);
}

/** Demo accounts that can still sign in. */
export async function activeDemoAccounts(deps: Pick<AppDeps, 'db'>): Promise<string[]> {
  const rows = await deps.db.selectFrom('users').select('email').where('email', 'like', `%${DEMO_DOMAIN}`).where('password_hash', '!=', '').orderBy('email').execute();
  return rows.map((r) => r.email);
}

export async function removeDemoAccounts(deps: AppDeps): Promise<string[]> {
  return deps.db.transaction().execute(async (trx) => {
    const users = await trx.selectFrom('users').select(['id', 'email']).where('email', 'like', `%${DEMO_DOMAIN}`).where('password_hash', '!=', '').orderBy('email').execute();
    const at = nowIso(deps);
    for (const u of users) {
      await trx.updateTable('users').set({ password_hash: '' }).where('id', '=', u.id).execute();
      await trx.deleteFrom('sessions').where('user_id', '=', u.id).execute();
      await trx.updateTable('oauth_grants').set({ revoked_at: at }).where('user_id', '=', u.id).where('revoked_at', 'is', null).execute();
      await trx.deleteFrom('oauth_codes').where('user_id', '=', u.id).execute();
      // The demo's enrollment tokens are published too.
      await trx.updateTable('enrollment_tokens').set({ expires_at: at }).where('owner_id', '=', u.id).where('used_at', 'is', null).execute();
      await appendAudit(trx, deps, at, { actorId: null, actorKind: 'system', action: 'demo.account_removed', detail: { email: u.email } });
    }
    return users.map((u) => u.email);
  });
}
