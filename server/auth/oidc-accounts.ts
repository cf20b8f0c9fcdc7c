/**
 * The Keyward account behind a provider sign-in. People are found by the provider's
 * (issuer, `sub`) and never by email alone: an email already used by another account is not
 * taken over (its owner connects the two by signing in with their password first and then
 * with the provider, which links them). A first sign-in creates the account with the name and
 * email from the claims; every sign-in re-reads the name, email and role (the role claim
 * mapped to helpdesk/admin, everyone else a user). Creations, links and role changes are audited.
 */
import { randomUUID } from 'node:crypto';
import type { Role } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import type { UserTable } from '../db/schema.ts';
import { appendAudit } from '../audit.ts';
import type { Trx } from '../services/key-versions.ts';
import { getOrg } from '../services/device-views.ts';
import { isActiveAccount } from './sessions.ts';
import { roleFromClaim, type SsoSettings } from './oidc-settings.ts';
import type { ProviderIdentity } from './oidc.ts';

export type SsoAccountOutcome =
  | { kind: 'signed_in'; user: UserTable }
  /** The account is disabled (or the account to link is no longer active). */
  | { kind: 'disabled' }
  /** Another account has this email; it must be linked by its owner. */
  | { kind: 'email_taken'; email: string }
  /** Linking: the provider account already belongs to another Keyward account, or this one has another. */
  | { kind: 'already_linked' };

type Meta = { ip: string; at: string };

async function byIdentity(trx: Trx, identity: ProviderIdentity): Promise<UserTable | undefined> {
  return trx.selectFrom('users').selectAll().where('oidc_issuer', '=', identity.issuer).where('oidc_subject', '=', identity.subject).executeTakeFirst();
}

/** Brings name, email and role up to date with the claims; the role change is audited. */
async function refreshFromClaims(trx: Trx, deps: AppDeps, user: UserTable, identity: ProviderIdentity, role: Role, meta: Meta): Promise<UserTable> {
  const emailFree = identity.email === user.email || !(await trx.selectFrom('users').select('id').where('email', '=', identity.email).executeTakeFirst());
  const email = emailFree ? identity.email : user.email;
  if (user.name !== identity.name || user.email !== email || user.role !== role) {
    await trx.updateTable('users').set({ name: identity.name, email, role }).where('id', '=', user.id).execute();
  }
  if (user.role !== role) {
    await appendAudit(trx, deps, meta.at, {
      actorId: null, actorKind: 'system', action: 'user.role_changed', ip: meta.ip,
      detail: { userId: user.id, from: user.role, to: role, source: 'sso', issuer: identity.issuer },
    });
  }
  return { ...user, name: identity.name, email, role };
}

/**
 * The account for `identity`, created on a first sign-in. `linkUserId`: the local account whose
 * owner, signed in with their password, asked to connect this provider account.
 */
export async function accountForIdentity(deps: AppDeps, settings: SsoSettings, identity: ProviderIdentity, linkUserId: string | null, meta: Meta): Promise<SsoAccountOutcome> {
  const role = roleFromClaim(settings, identity.roleValues);
  return deps.db.transaction().execute(async (trx): Promise<SsoAccountOutcome> => {
    const existing = await byIdentity(trx, identity);
    if (linkUserId !== null) {
      const target = await trx.selectFrom('users').selectAll().where('id', '=', linkUserId).executeTakeFirst();
      if (!target || !isActiveAccount(target)) return { kind: 'disabled' };
      if (existing && existing.id === target.id) return { kind: 'signed_in', user: await refreshFromClaims(trx, deps, target, identity, role, meta) };
      if (existing || target.oidc_subject !== null) return { kind: 'already_linked' };
      await trx.updateTable('users').set({ oidc_issuer: identity.issuer, oidc_subject: identity.subject }).where('id', '=', target.id).execute();
      await appendAudit(trx, deps, meta.at, { actorId: target.id, actorKind: 'user', action: 'user.sso_linked', ip: meta.ip, detail: { userId: target.id, issuer: identity.issuer, subject: identity.subject } });
      return { kind: 'signed_in', user: await refreshFromClaims(trx, deps, { ...target, oidc_issuer: identity.issuer, oidc_subject: identity.subject }, identity, role, meta) };
    }
    if (existing) {
      if (!isActiveAccount(existing)) return { kind: 'disabled' };
      return { kind: 'signed_in', user: await refreshFromClaims(trx, deps, existing, identity, role, meta) };
    }
    const org = await getOrg(trx);
    const user: UserTable = {
      id: randomUUID(), org_id: org.id, email: identity.email, name: identity.name, password_hash: '', role,
      // No language chosen yet (like an account an admin creates): the portal and the extension follow the browser.
      locale: '', created_at: meta.at,
      disabled_at: null, deleted_at: null, oidc_issuer: identity.issuer, oidc_subject: identity.subject, password_temporary_until: null,
    };
    // A first sign-in in two tabs at once: the second insert meets the first's (issuer, sub) and signs in to it.
    const inserted = await trx.insertInto('users').values(user).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) {
      const raced = await byIdentity(trx, identity);
      if (raced && isActiveAccount(raced)) return { kind: 'signed_in', user: raced };
      return raced ? { kind: 'disabled' } : { kind: 'email_taken', email: identity.email };
    }
    await appendAudit(trx, deps, meta.at, {
      actorId: null, actorKind: 'system', action: 'user.created', ip: meta.ip,
      detail: { userId: user.id, email: user.email, name: user.name, role, source: 'sso', issuer: identity.issuer },
    });
    return { kind: 'signed_in', user };
  });
}
