/**
 * Sign-ins at the organisation's provider in progress: the `state`, `nonce` and PKCE verifier
 * kept server-side under the hash of the browser's cookie token, until the provider's answer
 * comes back (taken once) or they expire.
 */
import type { AppDeps } from '../deps.ts';
import { hashToken } from '../crypto/secrets.ts';
import type { SsoLoginTable } from '../db/schema.ts';
import type { AuthorizationChecks } from '../auth/oidc.ts';

export type NewSsoLogin = { checks: AuthorizationChecks; next: string; linkUserId: string | null; validMinutes: number };

/** Records a sign-in under `token` (the browser's cookie), clearing expired ones first. */
export async function recordSsoLogin(deps: AppDeps, token: string, login: NewSsoLogin, now: Date): Promise<void> {
  await deps.db.deleteFrom('sso_logins').where('expires_at', '<=', now.toISOString()).execute();
  await deps.db
    .insertInto('sso_logins')
    .values({
      id_hash: hashToken(token),
      state: login.checks.state,
      nonce: login.checks.nonce,
      code_verifier: login.checks.codeVerifier,
      next: login.next,
      link_user_id: login.linkUserId,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + login.validMinutes * 60_000).toISOString(),
    })
    .execute();
}

/** The sign-in recorded under `token`, deleted as it is read: it works once. */
export async function takeSsoLogin(deps: AppDeps, token: string): Promise<SsoLoginTable | undefined> {
  return deps.db.deleteFrom('sso_logins').where('id_hash', '=', hashToken(token)).returningAll().executeTakeFirst();
}
