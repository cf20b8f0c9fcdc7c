/**
 * The organisation's policy as admins set it: escrow on/off, rotate after an IT reveal, the
 * check-in threshold behind M3, what the extension may cache offline, the support contact.
 * Saved with its `policy.changed` audit event in one transaction.
 */
import type { AppDeps } from '../deps.ts';
import { appendAudit } from '../audit.ts';
import { getOrg } from './device-views.ts';
import type { AccountChange } from './accounts.ts';

export type PolicyInput = {
  supportContact: string;
  escrowEnabled: boolean;
  rotateAfterReveal: boolean;
  checkinThresholdMinutes: number;
  offlineCache: 'keys' | 'metadata';
};

export async function savePolicy(deps: AppDeps, input: PolicyInput, change: AccountChange): Promise<void> {
  // The org row's columns, which are also the audit event's detail.
  const policy = {
    support_contact: input.supportContact,
    escrow_enabled: input.escrowEnabled ? 1 : 0,
    rotate_after_reveal: input.rotateAfterReveal ? 1 : 0,
    checkin_threshold_minutes: input.checkinThresholdMinutes,
    offline_cache: input.offlineCache,
  };
  const org = await getOrg(deps.db);
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('org').set(policy).where('id', '=', org.id).execute();
    await appendAudit(trx, deps, change.at, { actorId: change.actorId, actorKind: 'user', action: 'policy.changed', detail: policy, ip: change.ip });
  });
}
