/**
 * Which sign-ins the organisation accepts, now: a password sign-in (refused for a disabled
 * account, an expired temporary password, or — when single sign-on is on and local passwords
 * are turned off — anyone but the break-glass admin), and whether an earlier sign-in still
 * carries an extension's grant (the account is active; an SSO sign-in is younger than the
 * provider's maximum session age and SSO is still on; a password sign-in is still allowed).
 */
import type { Kysely } from 'kysely';
import type { Database, UserTable } from '../db/schema.ts';
import type { MessageId } from '../../lib/i18n/index.ts';
import type { Trx } from '../services/key-versions.ts';
import { authMethodOf, isActiveAccount } from './sessions.ts';
import { loadSsoSettings, type SsoSettings } from './oidc-settings.ts';

type Account = Pick<UserTable, 'id' | 'disabled_at' | 'deleted_at' | 'password_temporary_until'>;

/** Whether `user` may sign in with a local password under `settings` (null: no provider configured). */
export function passwordsAllowedFor(settings: SsoSettings | null, user: Pick<UserTable, 'id'>): boolean {
  return !settings || !settings.enabled || settings.localPasswords || settings.breakGlassUserId === user.id;
}

/** Why a password that matched still does not sign `user` in (a message id), or null when it does. */
export async function passwordSignInRefusal(db: Kysely<Database>, user: Account, now: Date): Promise<{ message: MessageId; provider?: string } | null> {
  if (!isActiveAccount(user)) return { message: 'portal.account.disabled_sign_in' };
  if (user.password_temporary_until !== null && user.password_temporary_until <= now.toISOString()) return { message: 'portal.account.temporary_expired' };
  const settings = await loadSsoSettings(db);
  if (!passwordsAllowedFor(settings, user)) return { message: 'portal.sso.passwords_off', provider: settings?.name ?? '' };
  return null;
}

export type GrantSignIn = { userId: string; authMethod: string | null; authTime: string | null };

/** Whether the sign-in behind an extension's grant still lets it refresh its tokens at `now`. */
export async function signInStillValid(db: Kysely<Database> | Trx, signIn: GrantSignIn, now: Date): Promise<boolean> {
  const user = await db.selectFrom('users').select(['id', 'disabled_at', 'deleted_at']).where('id', '=', signIn.userId).executeTakeFirst();
  if (!user || !isActiveAccount(user)) return false;
  const settings = await loadSsoSettings(db);
  if (authMethodOf(signIn.authMethod) === 'password') return passwordsAllowedFor(settings, user);
  if (!settings?.enabled || !signIn.authTime) return false;
  return Date.parse(signIn.authTime) + settings.maxSessionHours * 3_600_000 > now.getTime();
}
