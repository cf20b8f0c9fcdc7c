/**
 * One-time enrollment tokens an admin makes for a person's new device (agent-enroll.ts spends
 * them). The token and its audit event are written together: no token that the log does not know.
 */
import type { Ownership } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import { createEnrollmentToken } from './agent-enroll.ts';
import type { AccountChange } from './accounts.ts';

export type EnrollmentTokenRequest = { ownerEmail: string; ownership: Ownership; label: string; validDays: number };

/** The token, shown once; null when no account has that email. */
export async function issueEnrollmentToken(deps: AppDeps, request: EnrollmentTokenRequest, change: AccountChange): Promise<string | null> {
  const owner = await deps.db.selectFrom('users').select(['id']).where('email', '=', request.ownerEmail).executeTakeFirst();
  if (!owner) return null;
  const { ownership, label } = request;
  return deps.db.transaction().execute(async (trx) => {
    const token = await createEnrollmentToken({ ...deps, db: trx }, { ownerId: owner.id, ownership, label, validDays: request.validDays });
    await appendAudit(trx, deps, change.at, { actorId: change.actorId, actorKind: 'user', action: 'enrollment_token.created', detail: { ownerId: owner.id, ownership, label }, ip: change.ip });
    return token;
  });
}
