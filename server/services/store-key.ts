/**
 * Store a personal recovery key (DESIGN.md › Store a personal key): validate both typed keys,
 * keep the key as a `candidate` and queue `verify-and-rotate` for the device's agent, all in
 * one transaction with its audit event. Escrow turned off → refused and shown as M3. A LUKS
 * passphrase is refused: it is the person's own unlock, and the agent escrows a key of its own.
 */
import type { Locale, Operation, StoreKeyRequest } from '../../lib/api/contract.ts';
import { describeKeyError, parseRecoveryKey } from '../../lib/keys/index.ts';
import type { KeyKind } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import { deviceKeyKind } from '../db/states.ts';
import { ApiFailure } from '../errors.ts';
import { appendAudit } from '../audit.ts';
import { assertCanStore, type UserActor } from './access.ts';
import { escrowEnabledFor, hasNotCheckedIn, operationView, orgFor } from './device-views.ts';
import { addCandidate, queueOperation, recordRefusedOperation, rejectCandidate, supersedeOperation } from './key-lifecycle.ts';
import { lockVolume, touchDevice } from './key-versions.ts';
import { checkAttempt, type RefusalLog } from './refusals.ts';
import { pickVolume } from './volumes.ts';

export type RequestMeta = { ip: string | null; locale: Locale };

/** Both typed keys parsed and compared in normalized form; throws `invalid_key` / `keys_mismatch`. */
export function normalizeTypedKeys(kind: KeyKind, key: string, confirmKey: string, locale: Locale): string {
  const parsed = parseRecoveryKey(kind, key);
  if (!parsed.ok) throw new ApiFailure(400, 'invalid_key', { field: 'key', detail: describeKeyError(locale, kind, parsed.error) });
  const confirm = parseRecoveryKey(kind, confirmKey);
  if (!confirm.ok || confirm.normalized !== parsed.normalized) throw new ApiFailure(400, 'keys_mismatch', { field: 'confirmKey' });
  return parsed.normalized;
}

/**
 * One transaction: checks, the candidate, the queued operation and the audit event. With
 * escrow off, the refusal is recorded (so the device page shows M3) and then reported; a
 * store the access rules refuse is audited by `refusals` once that transaction is undone.
 */
export async function storeRecoveryKey(deps: AppDeps, refusals: RefusalLog, user: UserActor, deviceId: string, req: StoreKeyRequest, meta: RequestMeta): Promise<Operation> {
  const at = nowIso(deps);
  const outcome = await refusals.auditing(() => deps.db.transaction().execute(async (trx) => {
    const device = await trx.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    if (!device) throw new ApiFailure(404, 'not_found');
    checkAttempt({ action: 'store', actor: user, deviceId: device.id, volumeId: req.volumeId, ip: meta.ip }, () => assertCanStore(user, { ownerId: device.owner_id, ownership: device.ownership }));
    if (device.retired_at) throw new ApiFailure(409, 'device_retired');
    const kind = deviceKeyKind(device);
    // A LUKS passphrase is the person's own unlock: it never comes here. The agent adds a key slot of its own.
    if (kind === 'luks') throw new ApiFailure(400, 'luks_passphrase_refused', { field: 'key' });
    const normalized = normalizeTypedKeys(kind, req.key, req.confirmKey, meta.locale);
    const volume = await pickVolume(trx, device.id, req.volumeId);
    // Locked before the idempotency check, so a retry racing its original waits and then finds it.
    await lockVolume(trx, deps, volume.id);
    const org = await orgFor(deps, trx);
    const stale = hasNotCheckedIn(device, org, deps.clock.now());
    const idemKey = req.idempotencyKey ? `store:${user.id}:${device.id}:${req.idempotencyKey}` : null;

    if (idemKey) {
      const seen = await trx.selectFrom('idempotency').select('result').where('key', '=', idemKey).executeTakeFirst();
      if (seen) {
        const op = await trx.selectFrom('operations').selectAll().where('id', '=', seen.result).executeTakeFirstOrThrow();
        return { view: operationView(op, stale) };
      }
    }

    if (!escrowEnabledFor(device, org)) {
      // Counted with the other refusals, so repeating it cannot flood the log either.
      if (!(await refusals.admit(user.id))) throw new ApiFailure(429, 'rate_limited');
      await recordRefusedOperation(trx, { deviceId: device.id, volumeId: volume.id, kind: 'verify-and-rotate', requestedBy: user.id, at }, 'escrow_disabled');
      await appendAudit(trx, deps, at, { actorId: user.id, actorKind: 'user', action: 'key.store_refused', deviceId: device.id, volumeId: volume.id, detail: { cause: 'escrow_disabled' }, ip: meta.ip });
      await touchDevice(trx, device.id, at);
      return { refused: true as const };
    }

    // A newer typed key replaces one still waiting for the device.
    const waiting = await trx
      .selectFrom('operations')
      .select(['id', 'candidate_version_id'])
      .where('volume_id', '=', volume.id)
      .where('kind', '=', 'verify-and-rotate')
      .where('state', '=', 'queued')
      .execute();
    for (const w of waiting) {
      // Only while still queued: a check-in may just have handed it to the agent, which acts on it.
      if (!(await supersedeOperation(trx, w.id, at))) continue;
      if (w.candidate_version_id) await rejectCandidate(trx, w.candidate_version_id, at);
    }
    const candidate = await addCandidate(trx, deps, { deviceId: device.id, volumeId: volume.id, kind, protectorId: null, secret: normalized, at });
    const queued = await queueOperation(trx, { deviceId: device.id, volumeId: volume.id, kind: 'verify-and-rotate', requestedBy: user.id, candidateVersionId: candidate.id, at });
    if (idemKey) await trx.insertInto('idempotency').values({ key: idemKey, scope: 'store', result: queued.id, created_at: at }).execute();
    await appendAudit(trx, deps, at, {
      actorId: user.id, actorKind: 'user', action: 'key.stored', deviceId: device.id, volumeId: volume.id, detail: { version: candidate.version, operationId: queued.id }, ip: meta.ip,
    });
    await touchDevice(trx, device.id, at);
    return { view: operationView(queued, stale) };
  }));
  if ('refused' in outcome) throw new ApiFailure(403, 'escrow_disabled');
  return outcome.view;
}
