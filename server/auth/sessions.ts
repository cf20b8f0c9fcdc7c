/**
 * Portal sessions: a random id in an HttpOnly SameSite=Lax cookie, stored only as its
 * SHA-256 hash, with a per-session CSRF token for every form.
 */
import type { AppDeps } from '../deps.ts';
import type { UserTable } from '../db/schema.ts';
import { hashToken, randomToken } from '../crypto/secrets.ts';

export const SESSION_COOKIE = 'kw_session';

export type PortalSession = { user: UserTable; csrf: string; idHash: string };

export async function createSession(deps: AppDeps, userId: string): Promise<{ token: string; csrf: string }> {
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
      expires_at: new Date(now.getTime() + deps.config.sessionHours * 3_600_000).toISOString(),
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
  return user ? { user, csrf: row.csrf_token, idHash } : null;
}

export async function endSession(deps: AppDeps, idHash: string): Promise<void> {
  await deps.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}
