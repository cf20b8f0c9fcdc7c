/**
 * Agent check-in: records that the device is alive, syncs its volume list (and BitLocker
 * protectors still present), and hands out its queued operations, one per volume at a time.
 * Operations are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL so several service
 * instances never hand the same work out twice; a claim not finished within the lease is
 * handed out again.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { AgentTask, CheckinRequest, OperationKind } from '../../lib/api/contract.ts';
import type { AppDeps } from '../deps.ts';
import { nowIso } from '../deps.ts';
import type { DeviceTable } from '../db/schema.ts';
import { parseProtectorId } from '../../lib/keys/index.ts';
import { newestActiveVersion, openKeyVersion, type Trx } from './key-versions.ts';

export const CLAIM_LEASE_MS = 30_000;

type CheckinInput = z.infer<typeof CheckinRequest>;

async function syncVolumes(trx: Trx, device: DeviceTable, volumes: CheckinInput['volumes'], at: string): Promise<boolean> {
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
        .values({ id: randomUUID(), device_id: device.id, ref: v.ref, name: v.name, encrypted: v.encrypted ? 1 : 0, created_at: at })
        .onConflict((oc) => oc.columns(['device_id', 'ref']).doNothing())
        .execute();
      changed = true;
      continue;
    }
    if (known.name !== v.name || known.encrypted !== (v.encrypted ? 1 : 0)) {
      await trx.updateTable('volumes').set({ name: v.name, encrypted: v.encrypted ? 1 : 0 }).where('id', '=', known.id).execute();
      changed = true;
    }
    if (v.protectorIds.length > 0) {
      const gone = await trx
        .updateTable('key_versions')
        .set({ state: 'retired', updated_at: at })
        .where('volume_id', '=', known.id)
        .where('state', '=', 'active')
        .where('protector_id', 'is not', null)
        .where('protector_id', 'not in', v.protectorIds.map((p) => parseProtectorId(p) ?? p))
        .executeTakeFirst();
      if (Number(gone.numUpdatedRows) > 0) changed = true;
    }
  }
  return changed;
}

export async function checkIn(deps: AppDeps, device: DeviceTable, req: CheckinInput): Promise<{ tasks: AgentTask[]; nextCheckinSeconds: number }> {
  const at = nowIso(deps);
  const leaseExpired = new Date(deps.clock.now().getTime() - CLAIM_LEASE_MS).toISOString();
  const tasks = await deps.db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('operations')
      .selectAll()
      .where('device_id', '=', device.id)
      .where((eb) => eb.or([eb('state', '=', 'queued'), eb.and([eb('state', '=', 'in_progress'), eb('claimed_at', '<', leaseExpired)])]))
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
      .where('claimed_at', '>=', leaseExpired)
      .execute();
    const volumesInHand = new Set(busy.map((b) => b.volume_id));
    const ops: typeof waiting = [];
    for (const op of waiting) {
      if (volumesInHand.has(op.volume_id)) continue;
      volumesInHand.add(op.volume_id);
      ops.push(op);
    }
    const changed = await syncVolumes(trx, device, req.volumes, at);
    await trx
      .updateTable('devices')
      .set({ last_checkin_at: at, checkin_requested_at: null, ...(changed || ops.length > 0 ? { updated_at: at, change_seq: null } : {}) })
      .where('id', '=', device.id)
      .execute();
    const out: AgentTask[] = [];
    for (const op of ops) {
      await trx.updateTable('operations').set({ state: 'in_progress', claimed_at: at, updated_at: at }).where('id', '=', op.id).execute();
      const volume = await trx.selectFrom('volumes').select(['ref']).where('id', '=', op.volume_id).executeTakeFirstOrThrow();
      const candidate = op.candidate_version_id
        ? await trx.selectFrom('key_versions').selectAll().where('id', '=', op.candidate_version_id).executeTakeFirst()
        : undefined;
      const current = await newestActiveVersion(trx, op.volume_id);
      out.push({
        operationId: op.id,
        kind: op.kind as OperationKind,
        volumeRef: volume.ref,
        candidateKey: candidate ? openKeyVersion(deps, candidate, device.key_kind) : null,
        currentKey: current ? openKeyVersion(deps, current, device.key_kind) : null,
      });
    }
    return out;
  });
  return { tasks, nextCheckinSeconds: deps.config.agentCheckinSeconds };
}
