/**
 * Agent check-in: records that the device is alive, syncs its volume list (and BitLocker
 * protectors still present), records the cheap check of each escrowed key (a broken one shows
 * as "Escrowed key no longer works" from this check-in on), hands out its queued operations,
 * one per volume at a time, names the volumes due for a full check, and hands out a new
 * credential when the current one is due for rotation. Operations are claimed with
 * `FOR UPDATE SKIP LOCKED` on PostgreSQL so several service instances never hand the same work
 * out twice. An operation handed out earlier and not finished is handed out again when the
 * agent says it is not working on it (it died after taking it), or else after the lease.
 */
import { randomUUID } from 'node:crypto';
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { z } from 'zod';
import type { AgentTask, CheckinRequest, OperationKind } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import type { Database, DeviceTable } from '../db/schema.ts';
import { parseProtectorId } from '../../lib/keys/index.ts';
import { appendAudit } from '../audit.ts';
import { newestActiveVersion, openKeyVersion, type Trx } from './key-versions.ts';
import { rotateCredentialIfDue } from './agent-enroll.ts';
import { recordEscrowProblem } from './escrow-health.ts';
import { claimOperation, handOutAgain, queueOperation, retireProtectorsGone } from './key-lifecycle.ts';
import { findOpenOperation } from './operations.ts';

export const CLAIM_LEASE_MS = 30_000;

type CheckinInput = z.infer<typeof CheckinRequest>;

async function syncVolumes(trx: Trx, deps: AppDeps, device: DeviceTable, volumes: CheckinInput['volumes'], at: string): Promise<boolean> {
  let changed = false;
  const existing = await trx.selectFrom('volumes').selectAll().where('device_id', '=', device.id).execute();
  const seen = new Set<string>();
  for (const v of volumes) {
    // A volume listed twice counts once, its first entry (as at enrollment).
    if (seen.has(v.ref)) continue;
    seen.add(v.ref);
    const known = existing.find((e) => e.ref === v.ref);
    if (!known) {
      // A repeat of this check-in racing in another transaction may add the volume first.
      await trx
        .insertInto('volumes')
        .values({ id: randomUUID(), device_id: device.id, ref: v.ref, name: v.name, encrypted: v.encrypted ? 1 : 0, created_at: at, escrow_problem: null, escrow_checked_at: null, key_verified_at: null })
        .onConflict((oc) => oc.columns(['device_id', 'ref']).doNothing())
        .execute();
      changed = true;
      continue;
    }
    if (known.name !== v.name || known.encrypted !== (v.encrypted ? 1 : 0)) {
      await trx.updateTable('volumes').set({ name: v.name, encrypted: v.encrypted ? 1 : 0 }).where('id', '=', known.id).execute();
      changed = true;
    }
    if (v.escrowCheck) {
      // The cheap check clears only what a cheap check found; a key the full check rejected stays broken.
      const problem = v.escrowCheck.state === 'broken' ? (v.escrowCheck.problem ?? 'slot_changed') : known.escrow_problem === 'key_rejected' ? 'key_rejected' : null;
      if (await recordEscrowProblem(trx, deps, device.id, known, problem, at)) changed = true;
    }
    if (v.protectorIds.length > 0) {
      if ((await retireProtectorsGone(trx, known.id, v.protectorIds.map((p) => parseProtectorId(p) ?? p), at)) > 0) changed = true;
      if (await queueUploadOfNewProtectors(trx, device, known.id, v.protectorIds, at)) changed = true;
    }
  }
  return changed;
}

/**
 * On a volume whose keys are escrowed, a BitLocker recovery password the device lists but the
 * service does not hold (added on the device, e.g. after one was removed) is escrowed too: an
 * `upload` task, unless one is waiting. A volume never escrowed stays as it is until IT asks.
 */
async function queueUploadOfNewProtectors(trx: Trx, device: DeviceTable, volumeId: string, listed: string[], at: string): Promise<boolean> {
  const versions = await trx.selectFrom('key_versions').select(['protector_id', 'state']).where('volume_id', '=', volumeId).execute();
  if (versions.length === 0) return false;
  const held = new Set(versions.filter((k) => k.state === 'active').map((k) => k.protector_id));
  if (listed.every((p) => held.has(parseProtectorId(p) ?? p))) return false;
  if (await findOpenOperation(trx, volumeId, 'upload')) return false;
  await queueOperation(trx, { deviceId: device.id, volumeId, kind: 'upload', requestedBy: device.id, at });
  return true;
}

/** Refs of the device's volumes with an active key not proved to open the volume within the policy's interval. */
async function volumesDueForFullCheck(trx: Trx, deps: AppDeps, device: DeviceTable): Promise<string[]> {
  const dueBefore = new Date(deps.clock.now().getTime() - deps.config.keyCheckHours * 3_600_000).toISOString();
  const rows = await trx
    .selectFrom('volumes')
    .select('ref')
    .where('device_id', '=', device.id)
    .where('encrypted', '=', 1)
    .where((eb) => eb.or([eb('key_verified_at', 'is', null), eb('key_verified_at', '<', dueBefore)]))
    .where((eb) => eb.exists(eb.selectFrom('key_versions').select('id').whereRef('key_versions.volume_id', '=', 'volumes.id').where('key_versions.state', '=', 'active')))
    .execute();
  return rows.map((r) => r.ref);
}

export async function checkIn(
  deps: AppDeps, device: DeviceTable, req: CheckinInput,
): Promise<{ tasks: AgentTask[]; nextCheckinSeconds: number; verifyVolumes: string[]; credential?: string }> {
  const at = nowIso(deps);
  const leaseExpired = new Date(deps.clock.now().getTime() - CLAIM_LEASE_MS).toISOString();
  // An agent that says what it holds frees everything else it was handed (it died after taking it).
  const inHand = req.inHand;
  const abandoned = (eb: ExpressionBuilder<Database, 'operations'>): Expression<SqlBool> => {
    if (inHand === undefined) return eb('claimed_at', '<', leaseExpired);
    if (inHand.length === 0) return eb('claimed_at', 'is not', null).or('claimed_at', 'is', null);
    return eb.or([eb('claimed_at', '<', leaseExpired), eb('id', 'not in', inHand)]);
  };
  const result = await deps.db.transaction().execute(async (trx) => {
    // First what the device reports, so work it makes necessary (an upload) is handed out now.
    const changed = await syncVolumes(trx, deps, device, req.volumes, at);
    let q = trx
      .selectFrom('operations')
      .selectAll()
      .where('device_id', '=', device.id)
      .where((eb) => eb.or([eb('state', '=', 'queued'), eb.and([eb('state', '=', 'in_progress'), abandoned(eb)])]))
      .orderBy('created_at')
      .limit(8);
    if (deps.dbKind === 'postgres') q = q.forUpdate().skipLocked();
    const waiting = await q.execute();
    // One operation per volume at a time: each rotation changes the volume's key, so the next
    // one's task (with the key then on the disk) is made only once the one before is finished.
    const busy = await trx
      .selectFrom('operations')
      .select('volume_id')
      .where('device_id', '=', device.id)
      .where('state', '=', 'in_progress')
      .where((eb) => eb.not(abandoned(eb)))
      .execute();
    const volumesInHand = new Set(busy.map((b) => b.volume_id));
    const ops: typeof waiting = [];
    for (const op of waiting) {
      if (volumesInHand.has(op.volume_id)) continue;
      volumesInHand.add(op.volume_id);
      ops.push(op);
    }
    await trx
      .updateTable('devices')
      .set({ last_checkin_at: at, checkin_requested_at: null, ...(changed || ops.length > 0 ? { updated_at: at, change_seq: null } : {}) })
      .where('id', '=', device.id)
      .execute();
    const out: AgentTask[] = [];
    for (const op of ops) {
      const again = op.state === 'in_progress';
      // The rows are this transaction's (locked on PostgreSQL), so the claim holds; if not, it is not handed out.
      if (!(again ? await handOutAgain(trx, op.id, at) : await claimOperation(trx, op.id, at))) continue;
      if (again) {
        await appendAudit(trx, deps, at, { actorId: device.id, actorKind: 'agent', action: 'operation.handed_out_again', deviceId: device.id, volumeId: op.volume_id, detail: { operationId: op.id } });
      }
      out.push(await taskFor(trx, deps, device, op.id, op.kind, op.volume_id, op.candidate_version_id));
    }
    const verifyVolumes = await volumesDueForFullCheck(trx, deps, device);
    const credential = await rotateCredentialIfDue(trx, deps, device);
    return { tasks: out, verifyVolumes, ...(credential ? { credential } : {}) };
  });
  return { ...result, nextCheckinSeconds: deps.config.agentCheckinSeconds };
}

/** The task the agent gets for an operation: the volume's ref, the candidate key and the current escrowed key. */
export async function taskFor(
  trx: Trx, deps: AppDeps, device: DeviceTable, operationId: string, kind: OperationKind, volumeId: string, candidateVersionId: string | null,
): Promise<AgentTask> {
  const volume = await trx.selectFrom('volumes').select(['ref']).where('id', '=', volumeId).executeTakeFirstOrThrow();
  const candidate = candidateVersionId
    ? await trx.selectFrom('key_versions').selectAll().where('id', '=', candidateVersionId).executeTakeFirst()
    : undefined;
  const current = await newestActiveVersion(trx, volumeId);
  return {
    operationId,
    kind,
    volumeRef: volume.ref,
    candidateKey: candidate ? openKeyVersion(deps, candidate, device.key_kind) : null,
    currentKey: current ? openKeyVersion(deps, current, device.key_kind) : null,
  };
}
