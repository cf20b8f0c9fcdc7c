/**
 * `keyward init`: the organisation's name and support contact, and its first admin with a
 * password they choose — the way into a service started without `--demo`. Runs once: it
 * refuses when the database already has an admin who can sign in. Audited.
 *
 * With SSO, the first admin would instead be whoever first signs in through the identity
 * provider; that binding belongs to the SSO sign-in (server/auth/oidc*), which can call
 * `initOrganisation` without a password once it knows the person.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AppDeps } from './deps.ts';
import { nowIso } from './deps.ts';
import { appendAudit } from './audit.ts';
import { hashPassword } from './crypto/secrets.ts';
import { isDemoAccount } from './demo-accounts.ts';
import { NEW_ORG_POLICY } from './org-defaults.ts';

/** The shortest first-admin password accepted (NIST SP 800-63B asks for at least 8; an admin can reveal keys). */
export const MIN_ADMIN_PASSWORD = 12;

export class InitRefused extends Error {}

export type InitInput = { orgName: string; supportContact: string; email: string; name: string; password: string };

/** Checks what the operator typed before anything is created. */
export function validateInitInput(input: InitInput): void {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new InitRefused(`"${input.email}" is not an email address`);
  if (isDemoAccount(email)) throw new InitRefused('the first admin cannot be a demo account');
  if (!input.orgName.trim()) throw new InitRefused('the organisation needs a name (--org)');
  if (!input.name.trim()) throw new InitRefused('the admin needs a name (--name)');
  if ([...input.password].length < MIN_ADMIN_PASSWORD) throw new InitRefused(`the password must have at least ${MIN_ADMIN_PASSWORD} characters`);
}

export async function initOrganisation(deps: AppDeps, input: InitInput): Promise<{ orgId: string; userId: string }> {
  validateInitInput(input);
  const email = input.email.trim().toLowerCase();
  const passwordHash = await hashPassword(input.password);
  return deps.db.transaction().execute(async (trx) => {
    // Two inits at once on PostgreSQL: the second waits here, then sees the first one's admin.
    if (deps.dbKind === 'postgres') await sql`lock table users in share row exclusive mode`.execute(trx);
    const admins = await trx.selectFrom('users').select('email').where('role', '=', 'admin').where('password_hash', '!=', '').execute();
    const real = admins.filter((a) => !isDemoAccount(a.email));
    if (real.length > 0) throw new InitRefused(`this organisation is already set up (admin ${real[0].email}); add people on the admin console's Users page`);
    if (admins.length > 0) throw new InitRefused('this database still has the demo accounts: run keyward demo-remove first');
    const at = nowIso(deps);
    const org = await trx.selectFrom('org').select('id').limit(1).executeTakeFirst();
    const orgId = org?.id ?? randomUUID();
    if (org) {
      await trx.updateTable('org').set({ name: input.orgName.trim(), support_contact: input.supportContact.trim() }).where('id', '=', orgId).execute();
    } else {
      await trx.insertInto('org').values({
        id: orgId, name: input.orgName.trim(), support_contact: input.supportContact.trim(), ...NEW_ORG_POLICY, created_at: at,
      }).execute();
    }
    const userId = randomUUID();
    await trx.insertInto('users').values({ id: userId, org_id: orgId, email, name: input.name.trim(), password_hash: passwordHash, role: 'admin', locale: 'en', created_at: at }).execute();
    await appendAudit(trx, deps, at, { actorId: userId, actorKind: 'user', action: 'org.initialised', detail: { org: input.orgName.trim(), admin: email } });
    return { orgId, userId };
  });
}
