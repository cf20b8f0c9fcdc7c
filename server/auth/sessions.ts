/**
 * Portal sessions: a random id in an HttpOnly SameSite=Lax cookie, stored only as its
 * SHA-256 hash, with a per-session CSRF token for every form. A session records how its
 * sign-in happened (password or the organisation's provider) and the browser it was made in;
 * it ends at its expiry, when its user ends it, or when an admin disables or deletes the account.
 */
import type { AppDeps } from '../deps.ts';
import type { UserTable } from '../db/schema.ts';
import { hashToken, randomToken } from '../crypto/secrets.ts';

export const SESSION_COOKIE = 'kw_session';

export type AuthMethod = 'password' | 'sso';

export type PortalSession = { user: UserTable; csrf: string; idHash: string; authMethod: AuthMethod; createdAt: string };

/** How a sign-in happened; `maxHours` shortens the session below the service's `sessionHours`. */
export type SignIn = { method: AuthMethod; label: string; maxHours?: number };

export function authMethodOf(value: string | null | undefined): AuthMethod {
  return value === 'sso' ? 'sso' : 'password';
}

/** Neither disabled nor deleted. */
export function isActiveAccount(user: Pick<UserTable, 'disabled_at' | 'deleted_at'>): boolean {
  return user.disabled_at === null && user.deleted_at === null;
}

export function sessionHoursFor(deps: AppDeps, signIn: SignIn): number {
  return Math.min(deps.config.sessionHours, signIn.maxHours ?? deps.config.sessionHours);
}

export async function createSession(deps: AppDeps, userId: string, signIn: SignIn = { method: 'password', label: '' }): Promise<{ token: string; csrf: string }> {
  const token = randomToken();
  const csrf = randomToken(24);
  const now = deps.clock.now();
  await deps.db
    .insertInto('sessions')
    .values({
      id_hash: hashToken(token),
      user_id: userId,
      csrf_token: csrf,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + sessionHoursFor(deps, signIn) * 3_600_000).toISOString(),
      auth_method: signIn.method,
      label: signIn.label.slice(0, 100),
    })
    .execute();
  return { token, csrf };
}

export async function loadSession(deps: AppDeps, token: string | undefined): Promise<PortalSession | null> {
  if (!token) return null;
  const idHash = hashToken(token);
  const row = await deps.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  if (!row || row.expires_at <= deps.clock.now().toISOString()) return null;
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', row.user_id).executeTakeFirst();
  // Disabling or deleting ends sessions; an account in either state never has one, whatever raced.
  if (!user || !isActiveAccount(user)) return null;
  return { user, csrf: row.csrf_token, idHash, authMethod: authMethodOf(row.auth_method), createdAt: row.created_at };
}

export async function endSession(deps: AppDeps, idHash: string): Promise<void> {
  await deps.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

export type SessionSummary = { idHash: string; label: string; authMethod: AuthMethod; createdAt: string; expiresAt: string };

/** A person's unexpired portal sessions, newest first. */
export async function listSessions(deps: AppDeps, userId: string): Promise<SessionSummary[]> {
  const rows = await deps.db
    .selectFrom('sessions')
    .select(['id_hash', 'label', 'auth_method', 'created_at', 'expires_at'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', deps.clock.now().toISOString())
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => ({ idHash: r.id_hash, label: r.label, authMethod: authMethodOf(r.auth_method), createdAt: r.created_at, expiresAt: r.expires_at }));
}
