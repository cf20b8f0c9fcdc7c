/**
 * The demo organisation created on first start (idempotent: it seeds only an empty
 * database): "Demo Org" with its support contact, a user and an admin with fixed demo
 * passwords, and one-time enrollment tokens for three simulated devices.
 */
import { randomUUID } from 'node:crypto';
import type { AppDeps } from './deps.ts';
import { hashPassword } from './crypto/secrets.ts';
import { createEnrollmentToken } from './services/agent-enroll.ts';
import { NEW_ORG_POLICY } from './org-defaults.ts';

export const DEMO_USERS = {
  user: { email: 'user@demo.keyward.test', password: 'demo-user-pass', name: 'Dana Demo', role: 'user' },
  helpdesk: { email: 'helpdesk@demo.keyward.test', password: 'demo-helpdesk-pass', name: 'Harper Helpdesk', role: 'helpdesk' },
  admin: { email: 'admin@demo.keyward.test', password: 'demo-admin-pass', name: 'Alex Admin', role: 'admin' },
} as const;

export type DemoDeviceName = 'corporate-mac' | 'personal-mac' | 'windows-pc';

export type DemoSeed = { created: boolean; tokens: Record<DemoDeviceName, string> };

/** Fixed demo tokens, so a restarted demo finds the same devices again. */
export const DEMO_TOKENS: Record<DemoDeviceName, string> = {
  'corporate-mac': 'kwe_demo_corporate_mac_token',
  'personal-mac': 'kwe_demo_personal_mac_token',
  'windows-pc': 'kwe_demo_windows_pc_token',
};

export type OrgSeed = { name: string; supportContact: string };

/** Creates the organisation row if the database has none; returns its id. */
export async function ensureOrg(deps: AppDeps, org: OrgSeed): Promise<{ id: string; created: boolean }> {
  const existing = await deps.db.selectFrom('org').select('id').limit(1).executeTakeFirst();
  if (existing) return { id: existing.id, created: false };
  const id = randomUUID();
  await deps.db
    .insertInto('org')
    .values({
      id, name: org.name, support_contact: org.supportContact, ...NEW_ORG_POLICY, created_at: deps.clock.now().toISOString(),
    })
    .execute();
  return { id, created: true };
}

export async function createUser(deps: AppDeps, u: { orgId: string; email: string; name: string; password: string; role: string; locale?: string }): Promise<string> {
  const id = randomUUID();
  await deps.db
    .insertInto('users')
    .values({ id, org_id: u.orgId, email: u.email.toLowerCase(), name: u.name, password_hash: await hashPassword(u.password), role: u.role, locale: u.locale ?? '', created_at: deps.clock.now().toISOString() })
    .execute();
  return id;
}

export async function seedDemo(deps: AppDeps): Promise<DemoSeed> {
  const org = await ensureOrg(deps, { name: 'Demo Org', supportContact: 'it-support@demo.keyward.test, +46 8 123 456 00' });
  const seeded = await deps.db.selectFrom('users').select('id').where('email', '=', DEMO_USERS.user.email).executeTakeFirst();
  if (seeded) return { created: false, tokens: DEMO_TOKENS };
  const ids: Record<string, string> = {};
  for (const [key, u] of Object.entries(DEMO_USERS)) {
    ids[key] = await createUser(deps, { orgId: org.id, email: u.email, name: u.name, password: u.password, role: u.role });
  }
  await createEnrollmentToken(deps, { ownerId: ids.user, ownership: 'corporate', label: 'Demo corporate Mac', token: DEMO_TOKENS['corporate-mac'], validDays: 3650 });
  await createEnrollmentToken(deps, { ownerId: ids.user, ownership: 'personal', label: 'Demo personal Mac', token: DEMO_TOKENS['personal-mac'], validDays: 3650 });
  await createEnrollmentToken(deps, { ownerId: ids.user, ownership: 'corporate', label: 'Demo Windows PC', token: DEMO_TOKENS['windows-pc'], validDays: 3650 });
  return { created: true, tokens: DEMO_TOKENS };
}
