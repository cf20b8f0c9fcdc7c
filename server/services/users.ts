/**
 * Reading people's accounts: the admins' users list (search by part of an email or name, one
 * page at a time), one account, an account by email, the admins who can keep a password while
 * single sign-on is on (break-glass candidates); and a person's saved language.
 */
import { sql } from 'kysely';
import type { Locale } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import type { UserTable } from '../db/schema.ts';

export type UserPage = { users: UserTable[]; total: number };

/** Accounts not deleted whose email or name contains `q` (any case), by email; `page` from 1. */
export async function listUsers(deps: AppDeps, q: string, page: number, pageSize: number): Promise<UserPage> {
  let base = deps.db.selectFrom('users').where('deleted_at', 'is', null);
  if (q) {
    // LIKE with its wildcards escaped, the same on both databases.
    const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    base = base.where(sql<boolean>`(lower(email) like ${pattern} escape '\\' or lower(name) like ${pattern} escape '\\')`);
  }
  const [users, count] = await Promise.all([
    base.selectAll().orderBy('email').orderBy('id').limit(pageSize).offset((page - 1) * pageSize).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { users, total: Number(count.n) };
}

/** An account that is not deleted. */
export async function findUser(deps: AppDeps, id: string): Promise<UserTable | undefined> {
  return deps.db.selectFrom('users').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

/** The account with this (lower-case) email, whatever its state. */
export async function findUserByEmail(deps: AppDeps, email: string): Promise<UserTable | undefined> {
  return deps.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

/** Active admins with a local password: who may be the break-glass admin. */
export async function breakGlassCandidates(deps: AppDeps): Promise<Pick<UserTable, 'id' | 'email' | 'name'>[]> {
  return deps.db.selectFrom('users').select(['id', 'email', 'name']).where('role', '=', 'admin').where('disabled_at', 'is', null).where('deleted_at', 'is', null).where('password_hash', '!=', '').orderBy('email').execute();
}

/** The person's language for portal and extension; null goes back to following the browser (stored as ''). */
export async function saveUserLocale(deps: AppDeps, userId: string, locale: Locale | null): Promise<void> {
  await deps.db.updateTable('users').set({ locale: locale ?? '' }).where('id', '=', userId).execute();
}
