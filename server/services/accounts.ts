/**
 * Managing people's accounts (admins): add a local account, change a role, disable and re-enable, give a temporary
 * password, delete; and a person ending their own portal sessions and connected browsers.
 * Each action is one transaction with its audit event. Disabling or deleting ends the account's
 * portal sessions and extension grants at once (its devices' agents keep their own credentials).
 * A deleted account keeps only its id and name, so the audit log still names the person; its
 * devices are left without an owner. The organisation always keeps one active admin: the active
 * admins are locked (PostgreSQL) while a change that could take the last one away is checked, so
 * two admins acting on each other at the same moment cannot both succeed.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Role } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import type { UserTable } from '../db/schema.ts';
import { appendAudit } from '../audit.ts';
import { hashPassword } from '../crypto/secrets.ts';
import { loadSsoSettings } from '../auth/oidc-settings.ts';
import type { Trx } from './key-versions.ts';
import { getOrg } from './device-views.ts';

/** Hours a temporary password works before it must have been used (and changed). */
export const TEMPORARY_PASSWORD_HOURS = 72;

export type AccountChange = { actorId: string; ip: string; at: string };

export type Refusal =
  | 'not_found'
  /** The change would leave no active admin. */
  | 'last_admin'
  /** Admins do not disable, delete or reset their own account here. */
  | 'self'
  /** The break-glass admin, while local passwords are off for everyone else. */
  | 'break_glass'
  /** The actor is no longer an active admin. */
  | 'forbidden';

export type Outcome<T = null> = { ok: true; value: T } | { ok: false; refusal: Refusal };

const refuse = (refusal: Refusal): { ok: false; refusal: Refusal } => ({ ok: false, refusal });

type Guarded = { target: UserTable };

/**
 * Locks the active admins (in id order, so two changes never wait on each other), checks the
 * actor is still one, and loads the target. `takesAdmin`: the change would leave the target
 * without admin powers, which the last active admin may not lose.
 */
async function guard(trx: Trx, deps: AppDeps, change: AccountChange, targetId: string, o: { takesAdmin: (target: UserTable) => boolean; notSelf: boolean; keepsBreakGlass: boolean }): Promise<Outcome<Guarded>> {
  let admins = trx.selectFrom('users').select('id').where('role', '=', 'admin').where('disabled_at', 'is', null).where('deleted_at', 'is', null).orderBy('id');
  if (deps.dbKind === 'postgres') admins = admins.forUpdate();
  const adminIds = (await admins.execute()).map((r) => r.id);
  if (!adminIds.includes(change.actorId)) return refuse('forbidden');
  let targetQuery = trx.selectFrom('users').selectAll().where('id', '=', targetId).where('deleted_at', 'is', null);
  if (deps.dbKind === 'postgres') targetQuery = targetQuery.forUpdate();
  const target = await targetQuery.executeTakeFirst();
  if (!target) return refuse('not_found');
  if (o.notSelf && target.id === change.actorId) return refuse('self');
  if (o.takesAdmin(target) && adminIds.filter((id) => id !== target.id).length === 0 && adminIds.includes(target.id)) return refuse('last_admin');
  if (o.keepsBreakGlass) {
    const sso = await loadSsoSettings(trx);
    if (sso?.enabled && !sso.localPasswords && sso.breakGlassUserId === target.id) return refuse('break_glass');
  }
  return { ok: true, value: { target } };
}

/** Ends every portal session and extension grant of a person (and spends their unused sign-in codes). */
async function endAllAccess(trx: Trx, userId: string, at: string): Promise<{ sessions: number; browsers: number }> {
  const sessions = await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  const browsers = await trx.updateTable('oauth_grants').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
  await trx.updateTable('oauth_codes').set({ used_at: at }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  return { sessions: Number(sessions.numDeletedRows), browsers: Number(browsers.numUpdatedRows) };
}

function who(user: UserTable): { userId: string; email: string; name: string } {
  return { userId: user.id, email: user.email, name: user.name };
}

export type NewAccount = { email: string; name: string; role: Role; password: string };

/** Adds a local account; false when the email is taken (also by the same form sent twice at once). */
export async function createAccount(deps: AppDeps, account: NewAccount, change: AccountChange): Promise<boolean> {
  const { email, name, role } = account;
  const taken = await deps.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (taken) return false;
  const org = await getOrg(deps.db);
  const passwordHash = await hashPassword(account.password);
  const id = randomUUID();
  return deps.db.transaction().execute(async (trx) => {
    // The same form sent twice at once: the second finds the email taken here.
    const inserted = await trx
      .insertInto('users')
      .values({ id, org_id: org.id, email, name, password_hash: passwordHash, role, locale: '', created_at: change.at })
      .onConflict((oc) => oc.column('email').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
    await appendAudit(trx, deps, change.at, { actorId: change.actorId, actorKind: 'user', action: 'user.created', detail: { userId: id, email, name, role }, ip: change.ip });
    return true;
  });
}

export async function changeRole(deps: AppDeps, userId: string, role: Role, change: AccountChange): Promise<Outcome> {
  return deps.db.transaction().execute(async (trx) => {
    const guarded = await guard(trx, deps, change, userId, { takesAdmin: (t) => t.role === 'admin' && role !== 'admin', notSelf: false, keepsBreakGlass: role !== 'admin' });
    if (!guarded.ok) return guarded;
    const { target } = guarded.value;
    if (target.role === role) return { ok: true, value: null };
    await trx.updateTable('users').set({ role }).where('id', '=', target.id).execute();
    await appendAudit(trx, deps, change.at, { actorId: change.actorId, actorKind: 'user', action: 'user.role_changed', ip: change.ip, detail: { ...who(target), from: target.role, to: role } });
    return { ok: true, value: null };
  });
}

export async function disableAccount(deps: AppDeps, userId: string, change: AccountChange): Promise<Outcome> {
  return deps.db.transaction().execute(async (trx) => {
    const guarded = await guard(trx, deps, change, userId, { takesAdmin: (t) => t.role === 'admin', notSelf: true, keepsBreakGlass: true });
    if (!guarded.ok) return guarded;
    const { target } = guarded.value;
    if (target.disabled_at !== null) return { ok: true, value: null };
    await trx.updateTable('users').set({ disabled_at: change.at }).where('id', '=', target.id).execute();
    const ended = await endAllAccess(trx, target.id, change.at);
    await appendAudit(trx, deps, change.at, { actorId: change.actorId, actorKind: 'user', action: 'user.disabled', ip: change.ip, detail: { ...who(target), sessionsEnded: ended.sessions, browsersSignedOut: ended.browsers } });
    return { ok: true, value: null };
  });
}

export async function enableAccount(deps: AppDeps, userId: string, change: AccountChange): Promise<Outcome> {
  return deps.db.transaction().execute(async (trx) => {
    const guarded = await guard(trx, deps, change, userId, { takesAdmin: () => false, notSelf: false, keepsBreakGlass: false });
    if (!guarded.ok) return guarded;
    const { target } = guarded.value;
    if (target.disabled_at === null) return { ok: true, value: null };
    await trx.updateTable('users').set({ disabled_at: null }).where('id', '=', target.id).execute();
    await appendAudit(trx, deps, change.at, { actorId: change.actorId, actorKind: 'user', action: 'user.enabled', ip: change.ip, detail: who(target) });
    return { ok: true, value: null };
  });
}

// No 0/O, 1/l/I: read aloud or off a screen without mistakes.
const TEMPORARY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** 20 characters from a 31-letter alphabet (~99 bits), in groups of five. */
export function temporaryPassword(): string {
  const chars = Array.from({ length: 20 }, () => TEMPORARY_ALPHABET[randomInt(TEMPORARY_ALPHABET.length)]);
  return [0, 5, 10, 15].map((i) => chars.slice(i, i + 5).join('')).join('-');
}

/**
 * Gives the account a temporary password (returned once, for the admin to pass on; never stored
 * in clear or logged), valid for TEMPORARY_PASSWORD_HOURS and to be changed at the next sign-in.
 * The account's sessions and browsers end: whoever had them signs in again.
 */
export async function resetPassword(deps: AppDeps, userId: string, change: AccountChange): Promise<Outcome<{ password: string; validUntil: string; user: UserTable }>> {
  const password = temporaryPassword();
  const hash = await hashPassword(password);
  const validUntil = new Date(Date.parse(change.at) + TEMPORARY_PASSWORD_HOURS * 3_600_000).toISOString();
  return deps.db.transaction().execute(async (trx) => {
    const guarded = await guard(trx, deps, change, userId, { takesAdmin: () => false, notSelf: true, keepsBreakGlass: false });
    if (!guarded.ok) return guarded;
    const { target } = guarded.value;
    await trx.updateTable('users').set({ password_hash: hash, password_temporary_until: validUntil }).where('id', '=', target.id).execute();
    const ended = await endAllAccess(trx, target.id, change.at);
    await appendAudit(trx, deps, change.at, { actorId: change.actorId, actorKind: 'user', action: 'user.password_reset', ip: change.ip, detail: { ...who(target), validUntil, sessionsEnded: ended.sessions, browsersSignedOut: ended.browsers } });
    return { ok: true, value: { password, validUntil, user: target } };
  });
}

/** How many devices a person owns (for the delete confirmation). */
export async function ownedDeviceCount(deps: AppDeps, userId: string): Promise<number> {
  const row = await deps.db.selectFrom('devices').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Deletes an account: it keeps only its id and name (the audit log's events keep naming the
 * person), loses its email (free for a new account), password, provider link and every session,
 * browser and unused enrollment token; its devices are left without an owner.
 */
export async function deleteAccount(deps: AppDeps, userId: string, change: AccountChange): Promise<Outcome<{ devices: number }>> {
  return deps.db.transaction().execute(async (trx) => {
    const guarded = await guard(trx, deps, change, userId, { takesAdmin: (t) => t.role === 'admin', notSelf: true, keepsBreakGlass: true });
    if (!guarded.ok) return guarded;
    const { target } = guarded.value;
    const ended = await endAllAccess(trx, target.id, change.at);
    await trx.updateTable('enrollment_tokens').set({ expires_at: change.at }).where('owner_id', '=', target.id).where('used_at', 'is', null).where('expires_at', '>', change.at).execute();
    const devices = await trx.selectFrom('devices').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_id', '=', target.id).executeTakeFirstOrThrow();
    // Devices' views change (no owner), so a syncing extension of IT sees them again.
    await trx.updateTable('devices').set({ updated_at: change.at, change_seq: null }).where('owner_id', '=', target.id).execute();
    await trx
      .updateTable('users')
      .set({ email: `deleted:${target.id}`, password_hash: '', oidc_issuer: null, oidc_subject: null, password_temporary_until: null, disabled_at: null, deleted_at: change.at, role: 'user' })
      .where('id', '=', target.id)
      .execute();
    await appendAudit(trx, deps, change.at, {
      actorId: change.actorId, actorKind: 'user', action: 'user.deleted', ip: change.ip,
      detail: { ...who(target), role: target.role, devicesWithoutOwner: Number(devices.n), sessionsEnded: ended.sessions, browsersSignedOut: ended.browsers },
    });
    return { ok: true, value: { devices: Number(devices.n) } };
  });
}

export type SelfChange = { userId: string; ip: string; at: string };

/** A person ends one of their own portal sessions; false when it is not theirs (or already over). */
export async function endOwnSession(deps: AppDeps, idHash: string, change: SelfChange): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('sessions').select(['label', 'auth_method', 'created_at']).where('id_hash', '=', idHash).where('user_id', '=', change.userId).executeTakeFirst();
    if (!row) return false;
    const deleted = await trx.deleteFrom('sessions').where('id_hash', '=', idHash).where('user_id', '=', change.userId).executeTakeFirst();
    if (Number(deleted.numDeletedRows) !== 1) return false;
    await appendAudit(trx, deps, change.at, { actorId: change.userId, actorKind: 'user', action: 'session.ended', ip: change.ip, detail: { browser: row.label, signIn: row.auth_method, signedInAt: row.created_at } });
    return true;
  });
}

/** A person signs out one of their connected browsers; false when it is not theirs (or already signed out). */
export async function revokeOwnBrowser(deps: AppDeps, grantId: string, change: SelfChange): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const revoked = await trx.updateTable('oauth_grants').set({ revoked_at: change.at }).where('id', '=', grantId).where('user_id', '=', change.userId).where('revoked_at', 'is', null).executeTakeFirst();
    if (Number(revoked.numUpdatedRows) !== 1) return false;
    const grant = await trx.selectFrom('oauth_grants').select(['label', 'extension_id']).where('id', '=', grantId).executeTakeFirstOrThrow();
    await appendAudit(trx, deps, change.at, { actorId: change.userId, actorKind: 'user', action: 'browser.revoked', ip: change.ip, detail: { browserId: grantId, browser: grant.label, extensionId: grant.extension_id } });
    return true;
  });
}

/** A person changes their own local password (the temporary one included); their other sessions end. */
export async function changeOwnPassword(deps: AppDeps, newPassword: string, keepSessionIdHash: string, change: SelfChange): Promise<void> {
  const hash = await hashPassword(newPassword);
  await deps.db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('users').select('password_temporary_until').where('id', '=', change.userId).executeTakeFirstOrThrow();
    await trx.updateTable('users').set({ password_hash: hash, password_temporary_until: null }).where('id', '=', change.userId).execute();
    const others = await trx.deleteFrom('sessions').where('user_id', '=', change.userId).where('id_hash', '!=', keepSessionIdHash).executeTakeFirst();
    await appendAudit(trx, deps, change.at, {
      actorId: change.userId, actorKind: 'user', action: 'user.password_changed', ip: change.ip,
      detail: { wasTemporary: before.password_temporary_until !== null, otherSessionsEnded: Number(others.numDeletedRows) },
    });
  });
}
